#!/usr/bin/env bash
# Builds the network-boot inventory image: build/image/vmlinuz and build/image/initrd.img.
#
# The initrd is a Debian bookworm minbase root (Python 3 standard library, dmidecode, iproute2,
# pciutils, kmod, busybox for udhcpc), stripped of what a one-shot ramdisk never uses, plus the
# NIC/storage/modem modules of Debian's own signed kernel (from the current stable release), the
# agent, and image/init as /init. Everything comes from the Debian mirror of this machine's apt
# sources; nothing is installed on the host, and the host's update-initramfs never runs.
#
# Stages and what makes each one rerun:
#   1. rootfs   var/cache/image/rootfs-<variant>: debootstrap; reruns when the recipe (suite,
#               mirror, package list, the make_rootfs function) changes: see rootfs_stamp.
#   2. kernel   var/cache/image/kernel/<package>: the signed kernel package of $kernel_suite,
#               fetched and checked; reruns when linux-image-amd64 there names another one.
#   3. image    always (about 6 s): copy the cached rootfs, strip it, add modules, agent and
#               init, pack. image/image.mk decides when to run build.sh at all.
#
# Environment knobs (all optional):
#   ARROW_MIRROR       Debian mirror URL (default: first bookworm URI in /etc/apt/sources.list.d/)
#   ARROW_MODEM=1      add ModemManager, udev and D-Bus (see docs/image.md for what it costs)
#   ARROW_ZSTD_LEVEL   zstd level for the initrd (default 9: 2 s; 19 saves 3 MiB for 25 s more)
#   ARROW_AGENT_DIR    the arrow_agent package to put in the image (default agent/arrow_agent)
#   ARROW_KERNEL_SUITE Debian release the kernel comes from (default trixie)
#   ARROW_KERNEL_PKG   versioned kernel package of that release, instead of linux-image-amd64's
#
# Needs root (debootstrap, device nodes, file ownership) and the host tools debootstrap, zstd,
# xz, cpio, kmod (depmod) and dpkg-deb.
set -euo pipefail

started=$(date +%s.%N)
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
cache="$repo/var/cache/image"
out="$repo/build/image"
suite=bookworm
modem=${ARROW_MODEM:-0}
zstd_level=${ARROW_ZSTD_LEVEL:-9}
agent_dir=$(realpath -m "${ARROW_AGENT_DIR:-$repo/agent/arrow_agent}")

log() { printf 'build.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

[[ $(id -u) -eq 0 ]] || die "must run as root (debootstrap creates device nodes, root-owned files)"
bash "$repo/scripts/system-packages.sh" image || die "the Debian packages above are missing"

# --- packages -------------------------------------------------------------------------------
# python3-minimal lacks json and http; libpython3.11-stdlib has them. busybox gives udhcpc.
# ipmitool reads the BMC's LAN address and MAC (`ipmitool lan print`).
packages=(python3-minimal libpython3.11-stdlib dmidecode iproute2 pciutils kmod busybox ipmitool)
if [[ $modem == 1 ]]; then
    # ModemManager finds modems through udev and answers mmcli over the system D-Bus.
    packages+=(modemmanager udev dbus libpam-systemd)
fi
variant=$([[ $modem == 1 ]] && echo modem || echo base)

find_mirror() {
    # First URI serving bookworm main in the deb822 or one-line apt sources, security excluded.
    local uri
    uri=$(awk '/^URIs:/ {print $2}' /etc/apt/sources.list.d/*.sources 2>/dev/null \
        | grep -v -- '-security' | head -n1 || true)
    if [[ -z $uri ]]; then
        uri=$(grep -hE '^deb +(\[[^]]*\] +)?[a-z]+://' /etc/apt/sources.list \
            /etc/apt/sources.list.d/*.list 2>/dev/null | grep -w "$suite" | grep -v -- '-security' \
            | sed -E 's/^deb +(\[[^]]*\] +)?//' | awk '{print $1}' | head -n1 || true)
    fi
    [[ -n $uri ]] || die "no Debian mirror found in /etc/apt/sources.list.d/; set ARROW_MIRROR"
    printf '%s\n' "$uri"
}
mirror=${ARROW_MIRROR:-$(find_mirror)}

# --- stage 1: rootfs ------------------------------------------------------------------------
make_rootfs() {
    local dir=$1
    debootstrap --variant=minbase --cache-dir="$cache/debs" \
        --include="$(IFS=,; echo "${packages[*]}")" "$suite" "$dir" "$mirror" \
        >"$cache/debootstrap.log" 2>&1 || {
        tail -n 30 "$cache/debootstrap.log" >&2
        die "debootstrap failed; full log in $cache/debootstrap.log"
    }
    # Debian compiles only part of the standard library at install time. Compile all of it once
    # here, with the image's own interpreter, so the guest never compiles under slow emulation.
    chroot "$dir" /usr/bin/python3 -m compileall -q -j0 /usr/lib/python3.11 >/dev/null
}

rootfs="$cache/rootfs-$variant"
rootfs_stamp=$(printf '%s\n' "$suite" "$mirror" "${packages[@]}" "$(declare -f make_rootfs)" \
    | sha256sum | cut -d' ' -f1)
mkdir -p "$cache/debs" "$out"
if [[ -f $rootfs/.arrow-stamp && $(cat "$rootfs/.arrow-stamp") == "$rootfs_stamp" ]]; then
    log "rootfs: cached ($rootfs)"
else
    log "rootfs: debootstrap $suite from $mirror with ${packages[*]}"
    t0=$(date +%s)
    rm -rf "$rootfs" "$rootfs.tmp"
    make_rootfs "$rootfs.tmp"
    echo "$rootfs_stamp" >"$rootfs.tmp/.arrow-stamp"
    mv "$rootfs.tmp" "$rootfs"
    log "rootfs: debootstrap took $(($(date +%s) - t0)) s"
fi

# --- Debian archive access -----------------------------------------------------------------
# Packages that the configured apt sources do not carry (the kernel of $kernel_suite, the
# non-free-firmware component), fetched from the same mirror and checked the way apt would:
# InRelease with gpgv against debian-archive-keyring, Packages.xz against InRelease's SHA256,
# each .deb against Packages.
archive="$cache/archive"

# verified_index SUITE COMPONENT: fetches and checks SUITE's COMPONENT index (each build, so a
# new kernel is noticed) and prints the path of the uncompressed Packages file.
verified_index() {
    local suite=$1 component=$2 dir="$archive/$1/$2" index="$2/binary-amd64/Packages.xz"
    mkdir -p "$dir"
    curl -fsS --max-time 120 -o "$dir/InRelease" "$mirror/dists/$suite/InRelease" \
        || die "cannot fetch $mirror/dists/$suite/InRelease"
    gpgv --keyring /usr/share/keyrings/debian-archive-keyring.gpg "$dir/InRelease" \
        2>"$dir/gpgv.log" || die "$suite InRelease does not verify (see $dir/gpgv.log)"
    curl -fsS --max-time 300 -o "$dir/Packages.xz" "$mirror/dists/$suite/$index" \
        || die "cannot fetch $suite $index"
    local want
    want=$(awk -v f="$index" '/^SHA256:/ {s=1; next} /^[A-Z]/ {s=0} s && $3 == f {print $1}' \
        "$dir/InRelease")
    [[ -n $want && $(sha256sum <"$dir/Packages.xz" | cut -d' ' -f1) == "$want" ]] \
        || die "$suite $index does not match InRelease"
    xz -dc "$dir/Packages.xz" >"$dir/Packages"
    printf '%s\n' "$dir/Packages"
}

# index_field PACKAGES PACKAGE FIELD: FIELD of PACKAGE's stanza in the Packages file.
index_field() {
    awk -v p="$2" -v f="$3:" '$1 == "Package:" {on = ($2 == p)} on && $1 == f {print $2; exit}' "$1"
}

# fetch_deb PACKAGES PACKAGE DIR: unpacks PACKAGE's .deb, checked against PACKAGES, into
# DIR/<name of the .deb> (kept as a cache) and points DIR/PACKAGE at it.
fetch_deb() {
    local packages=$1 package=$2 dir=$3 file sum name
    file=$(index_field "$packages" "$package" Filename)
    sum=$(index_field "$packages" "$package" SHA256)
    [[ -n $file && -n $sum ]] || die "$package is not in $packages"
    name=$(basename "$file" .deb)
    if [[ ! -d $dir/$name ]]; then
        log "fetching $name.deb"
        mkdir -p "$dir"
        curl -fsS --max-time 600 -o "$dir/pkg.deb" "$mirror/$file" || die "cannot fetch $file"
        [[ $(sha256sum <"$dir/pkg.deb" | cut -d' ' -f1) == "$sum" ]] \
            || die "$file does not match its Packages index"
        dpkg-deb -x "$dir/pkg.deb" "$dir/$name.tmp"
        rm -f "$dir/pkg.deb"
        mv "$dir/$name.tmp" "$dir/$name"
    fi
    ln -sfn "$name" "$dir/$package"
}

# --- stage 2: kernel ------------------------------------------------------------------------
# Debian's signed kernel of $kernel_suite (the current stable release): its kernel is
# zstd-compressed, which QEMU's emulation decompresses in 1.9 s against 6.9 s for bookworm's
# xz-compressed one (docs/decisions.md). linux-image-amd64 there names the versioned package.
kernel_suite=${ARROW_KERNEL_SUITE:-trixie}
kernel_index=$(verified_index "$kernel_suite" main)
kernel_pkg=${ARROW_KERNEL_PKG:-$(index_field "$kernel_index" linux-image-amd64 Depends)}
[[ -n $kernel_pkg ]] || die "no linux-image-amd64 in $kernel_suite main"
kdir="$cache/kernel/$kernel_pkg"
if [[ ! -f $kdir/.arrow-done ]]; then
    log "kernel: $kernel_pkg from $kernel_suite"
    fetch_deb "$kernel_index" "$kernel_pkg" "$cache/kernel/debs"
    rm -rf "$kdir" && mkdir -p "$kdir"
    cp -al "$cache/kernel/debs/$kernel_pkg/." "$kdir/root"
    # Packages of merged-/usr releases put the modules under usr/lib; kmod looks in lib/.
    [[ -e $kdir/root/lib ]] || ln -s usr/lib "$kdir/root/lib"
    kver=$(basename "$(echo "$kdir"/root/lib/modules/*)")
    # The package ships no modules.dep; build one for the full tree to resolve dependencies.
    depmod -b "$kdir/root" "$kver"
    touch "$kdir/.arrow-done"
else
    log "kernel: cached ($kernel_pkg)"
fi
kver=$(basename "$(echo "$kdir"/root/lib/modules/*)")
[[ -f $kdir/root/boot/vmlinuz-$kver ]] || die "no vmlinuz-$kver in $kernel_pkg"

# --- stage 2b: firmware ---------------------------------------------------------------------
# The packages of image/firmware.txt, from the non-free-firmware component of the kernel's
# release, whose drivers ask for these files. Cached per release and package file name.
fwcache="$cache/firmware-$kernel_suite"
firmware_packages=$(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$here/firmware.txt" | awk '{print $1}' \
    | sort -u)
missing_fw=0
for package in $firmware_packages; do [[ -d $fwcache/$package ]] || missing_fw=1; done
if ((missing_fw)); then
    firmware_index=$(verified_index "$kernel_suite" non-free-firmware)
    for package in $firmware_packages; do fetch_deb "$firmware_index" "$package" "$fwcache"; done
else
    log "firmware: cached ($fwcache)"
fi

# --- stage 3: image -------------------------------------------------------------------------
stage="$cache/stage"
log "image: assembling in $stage"
rm -rf "$stage"
# Hard links: copying the 260 MB root took 5 s. Everything below deletes, renames or creates
# files and never writes into one in place, which would change the cached root as well.
cp -al "$rootfs" "$stage"
rm -f "$stage/.arrow-stamp"

strip_rootfs() {
    local r=$1
    # Package management, documentation, translations, time zones, ipmitool's IANA enterprise
    # list (manufacturer names for `mc info`; `lan print` needs none): a one-shot ramdisk uses none.
    rm -rf "$r"/usr/share/{doc,man,info,locale,i18n,zoneinfo,lintian,bash-completion} \
        "$r"/usr/share/{common-licenses,perl5,debconf,bug,menu,gcc,pam,pam-configs,keyrings} \
        "$r"/usr/share/{initramfs-tools,base-passwd,dpkg,pixmaps} \
        "$r"/usr/share/misc/enterprise-numbers.txt \
        "$r"/usr/lib/{apt,dpkg} "$r"/usr/lib/x86_64-linux-gnu/{gconv,perl-base,perl5,security} \
        "$r"/usr/lib/x86_64-linux-gnu/{e2fsprogs,engines-3,krb5} \
        "$r"/var/cache/* "$r"/var/lib/{apt,dpkg} "$r"/var/log/* "$r"/etc/apt \
        "$r"/usr/bin/{perl*,apt*,dpkg*,debconf*,gpgv,localedef,pydoc3*} \
        "$r"/usr/sbin/{e2fsck,mke2fs,mkfs.ext*,fsck.ext*,tune2fs,debugfs,e2image,resize2fs} \
        "$r"/usr/sbin/{dumpe2fs,badblocks,e2freefrag,e4crypt,e4defrag,filefrag,mklost+found} \
        "$r"/usr/sbin/{dpkg*,update-passwd,add-shell,remove-shell,installkernel}
    # Accounts, logins, PAM and a few network daemons' tools: nobody logs in to this ramdisk.
    # Removing them lets the library pass below drop Kerberos, PAM, libgcrypt, libsystemd, ...
    rm -rf "$r"/usr/sbin/{adduser,addgroup,deluser,delgroup,useradd,userdel,usermod,groupadd} \
        "$r"/usr/sbin/{groupdel,groupmod,groupmems,newusers,chpasswd,chgpasswd,cpgr,cppw,grp*} \
        "$r"/usr/sbin/{pw*,vigr,vipw,pam*,unix_chkpwd,unix_update,mkhomedir_helper,faillock} \
        "$r"/usr/sbin/{shadowconfig,runuser,sulogin,agetty,getty,arpd,tc,tipc,vdpa,dcb,devlink} \
        "$r"/usr/sbin/{rtacct,rtmon,e2*,mkfs*,fsck*,update-rc.d,invoke-rc.d,service,zic} \
        "$r"/usr/sbin/{iconvconfig,update-pciids,rmt*,tarcat} \
        "$r"/usr/bin/{lslogins,logger,ss,chage,chfn,chsh,expiry,faillog,gpasswd,passwd,newgrp} \
        "$r"/usr/bin/{login,su,lastlog,last,lastb,deb-systemd-*,py3clean,py3compile,py3versions} \
        "$r"/usr/bin/{tic,toe,infocmp,captoinfo,infotocap,bashbug,rdma,iconv,locale,zdump,tzselect}
    find "$r/usr/lib/locale" -mindepth 1 -maxdepth 1 ! -name C.utf8 -exec rm -rf {} +

    # Modem variant: ModemManager needs udevd, udevadm and the D-Bus daemon, not the rest of
    # systemd (pulled in only for logind, which polkit wants) or the 12 MB hardware database.
    if [[ -d $r/usr/lib/systemd ]]; then
        find "$r/usr/lib/systemd" -mindepth 1 -maxdepth 1 ! -name systemd-udevd -exec rm -rf {} +
        rm -rf "$r"/usr/bin/{systemctl,systemd,systemd-*,journalctl,busctl,hostnamectl} \
            "$r"/usr/bin/{localectl,loginctl,networkctl,timedatectl} \
            "$r"/usr/lib/udev/hwdb.bin "$r"/usr/lib/udev/hwdb.d "$r"/usr/share/{zsh,polkit-1}
    fi

    # Python standard library parts the agent never imports (tests, GUI, 2to3, databases, docs).
    local py="$r/usr/lib/python3.11"
    rm -rf "$py"/{test,unittest/test,idlelib,tkinter,turtledemo,lib2to3,ensurepip,distutils} \
        "$py"/{pydoc_data,sqlite3,dbm,curses,turtle.py,__pycache__/turtle.*} \
        "$py"/lib-dynload/{_test,_xx,xx,_ctypes_test,_sqlite3,_dbm,_gdbm,_curses,nis,ossaudiodev}* \
        "$py"/lib-dynload/audioop*
    # No TLS and no OpenSSL in the agent's Python: the image has no CA bundle, so an https://
    # server could never be verified (the agent refuses one at start), and loading libcrypto for
    # ssl and hashlib (whose built-in sha256 then serves the device name) cost the boot about
    # 0.15-0.35 s under emulation (docs/image.md).
    rm -f "$py"/ssl.py "$py"/__pycache__/ssl.* "$py"/lib-dynload/{_ssl,_hashlib}.*
    # Keep the standard library as compiled code only: sources double its size, and the kernel
    # unpacks every byte of the initrd at boot, slowly under emulation. Tracebacks still name
    # file and line; the agent keeps its sources (it is copied in later).
    local pyc dir base
    while IFS= read -r -d '' pyc; do
        dir=${pyc%/__pycache__/*}
        base=${pyc##*/}
        base=${base%.cpython-311.pyc}
        if [[ -f $dir/$base.py ]]; then
            mv "$pyc" "$dir/$base.pyc"
            rm "$dir/$base.py"
        fi
    done < <(find "$py" -path '*/__pycache__/*.cpython-311.pyc' -print0)
    find "$py" -depth -type d -name __pycache__ -exec rm -rf {} +

    # Shared libraries nothing left links against (apt's, perl's, PAM's, Kerberos' ...). The
    # dynamic loader lists what each remaining ELF file needs; keep that, plus what glibc and
    # Python load with dlopen().
    local needed
    # shellcheck disable=SC2016 # the chroot's shell expands these
    needed=$(chroot "$r" /bin/sh -c '
        find /usr/bin /usr/sbin /usr/libexec /usr/lib/systemd /usr/lib/python3.11/lib-dynload \
            /usr/lib/x86_64-linux-gnu/*/ -type f \( -perm -u+x -o -name "*.so*" \) 2>/dev/null |
        while read -r f; do /lib64/ld-linux-x86-64.so.2 --list "$f" 2>/dev/null; done; true' |
        awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' | sort -u |
        while read -r lib; do realpath -m "$r$lib"; done | sort -u)
    local f real
    find "$r/usr/lib/x86_64-linux-gnu" -maxdepth 1 -name '*.so*' \( -type f -o -type l \) |
    while read -r f; do
        case $(basename "$f") in
            ld-linux*|libc.so*|libm.so*|libgcc_s.so*|libnss_*|libresolv*|libpthread*|libdl.so*)
                continue ;;
        esac
        real=$(realpath -m "$f")
        grep -qxF "$real" <<<"$needed" || rm -f "$f"
    done
}
strip_rootfs "$stage"

# Kernel modules: the listed ones plus their dependencies, resolved in the full tree, and
# xz-compressed (kmod decompresses the few that get loaded, and the kernel no longer unpacks all
# of them from the initrd at every boot). Compressed copies are cached next to the kernel.
mods="$stage/usr/lib/modules/$kver"
mkdir -p "$mods"
cp "$kdir/root/lib/modules/$kver"/modules.{builtin,builtin.modinfo,order} "$mods/"
missing=()
while read -r name; do
    deps=$(modprobe -d "$kdir/root" -S "$kver" --show-depends "$name" 2>/dev/null) \
        || { missing+=("$name"); continue; }
    while read -r kind path _; do
        [[ $kind == insmod ]] || continue
        rel=${path#"$kdir/root/lib/modules/$kver/"}
        mkdir -p "$mods/$(dirname "$rel")"
        if [[ $rel == *.xz ]]; then # the package compressed it already
            cp "$path" "$mods/$rel"
            continue
        fi
        if [[ ! -f $kdir/xz/$rel.xz ]]; then
            mkdir -p "$(dirname "$kdir/xz/$rel")"
            xz --check=crc32 -T1 -c "$path" >"$kdir/xz/$rel.xz.tmp"
            mv "$kdir/xz/$rel.xz.tmp" "$kdir/xz/$rel.xz"
        fi
        cp "$kdir/xz/$rel.xz" "$mods/$rel.xz"
    done <<<"$deps"
done < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$here/modules.txt")
((${#missing[@]} == 0)) || die "modules not in $kernel_pkg: ${missing[*]} (edit image/modules.txt)"
depmod -b "$stage" "$kver"
# The kernel runs /sbin/modprobe for every crypto algorithm and protocol it looks up while it
# initialises (encrypted keys, IPv6, ...): about 1.2 s of processes under emulation, before
# /init, for modules that are built in anyway. Without /sbin/modprobe each attempt fails at
# once; /init points the kernel at this path first thing, so later requests (iwlwifi asking for
# iwlmvm) load as usual. kmod takes its role from the name, hence a symlink called modprobe.
mkdir -p "$stage/usr/libexec/arrow"
mv "$stage/usr/sbin/modprobe" "$stage/usr/libexec/arrow/modprobe"
cp "$kdir/root/boot/vmlinuz-$kver" "$out/vmlinuz.tmp"

# Firmware files, per file (image/firmware.txt). The kernel loads them from /lib/firmware itself.
while read -r package path; do
    src="$fwcache/$package/usr/lib/firmware/$path" # merged /usr (trixie on)
    [[ -f $src ]] || src="$fwcache/$package/lib/firmware/$path"
    [[ -f $src ]] || die "firmware $path is not in $package (edit image/firmware.txt)"
    install -D -m 0644 "$src" "$stage/usr/lib/firmware/$path"
done < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$here/firmware.txt")

# Agent, init and the DHCP client script.
[[ -f $agent_dir/__init__.py ]] || die "$agent_dir is not a Python package"
mkdir -p "$stage/opt/arrow"
cp -r "$agent_dir" "$stage/opt/arrow/arrow_agent"
find "$stage/opt/arrow" -depth -name __pycache__ -exec rm -rf {} +
chroot "$stage" /usr/bin/python3 -m compileall -q /opt/arrow >/dev/null
install -m 0755 "$here/init" "$stage/init"
install -D -m 0755 "$here/udhcpc.script" "$stage/usr/share/udhcpc/default.script"
rm -f "$stage/etc/hostname" "$stage/etc/resolv.conf" # hard links to the cached root
echo arrow-inventory >"$stage/etc/hostname"
: >"$stage/etc/resolv.conf"

# Pack. Sorted names and fixed owners keep the archive stable between identical builds.
log "image: packing with zstd -$zstd_level"
t0=$(date +%s.%N)
(cd "$stage" && find . -mindepth 1 -print0 | LC_ALL=C sort -z |
    cpio --null --create --format=newc --reproducible --owner=0:0 --quiet) |
    zstd -q -T0 "-$zstd_level" >"$out/initrd.img.tmp"
pack_s=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}')
mv "$out/vmlinuz.tmp" "$out/vmlinuz"
mv "$out/initrd.img.tmp" "$out/initrd.img"
# What this build used, for image/image.mk to compare with what it is asked for.
echo "modem=$modem zstd=$zstd_level agent=$agent_dir kernel=${ARROW_KERNEL_PKG:-}" \
    "kernel_suite=${ARROW_KERNEL_SUITE:-} mirror=${ARROW_MIRROR:-}" >"$out/settings"

unpacked=$(du -sb "$stage" | cut -f1)
initrd=$(stat -c %s "$out/initrd.img")
kernel=$(stat -c %s "$out/vmlinuz")
total_s=$(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}')
mib() { awk -v n="$1" 'BEGIN {printf "%.1f MiB", n / 1048576}'; }
printf 'image: %s (%s), initrd.img %s (unpacked %s), vmlinuz %s\n' \
    "$kernel_pkg" "$variant" "$(mib "$initrd")" "$(mib "$unpacked")" "$(mib "$kernel")"
printf 'image: build time %s s (pack %s s)\n' "$total_s" "$pack_s"
