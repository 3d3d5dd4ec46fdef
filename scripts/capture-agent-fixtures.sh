#!/usr/bin/env bash
# Captures the agent's own fixtures on an emulated machine, and runs the agent there.
#
# The guest is Debian 12 (debootstrap minbase + python3, dmidecode, iproute2) on Debian's 6.1
# kernel under QEMU TCG, with three e1000 NICs and NUC-like SMBIOS strings. Its init builds a
# bond (eth1 + eth2, so eth2 shows a permaddr), a VLAN on eth0, a bridge, a veth pair and
# tun/tap, then saves `ip -j -d link`, `ip -j link`, `ip -d link`, `ip link`, `ip -o link`,
# `ls -l /sys/class/net`, the bond members' perm_hwaddr, dmidecode, /sys/class/dmi/id,
# /proc/cpuinfo and /proc/meminfo. Then it runs the agent from this checkout: `collect
# --dry-run`, and a real submission to a stand-in backend on the host that answers 503 once and
# then 200; the agent powers the guest off through SysRq.
#
# Needs root (debootstrap, 9p passthrough) and: debootstrap qemu-system-x86 busybox cpio kmod.
# Usage: scripts/capture-agent-fixtures.sh WORKDIR     outputs land in WORKDIR/root/out
set -euo pipefail

work=$(realpath "${1:?usage: $0 WORKDIR}")
checkout=$(realpath "$(dirname "$0")/..")
port=${PORT:-18777}
mkdir -p "$work"
cd "$work"

if [ ! -x root/usr/bin/python3 ]; then
    debootstrap --variant=minbase \
        --include=python3-minimal,libpython3.11-stdlib,dmidecode,iproute2,kmod,busybox \
        bookworm root http://deb.debian.org/debian
fi
if [ ! -d kernel/boot ]; then
    package=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-6/ {print $2}')
    apt-get download "$package"
    dpkg-deb -x "$package"_*.deb kernel
fi
kver=$(basename kernel/lib/modules/*)
depmod -b kernel "$kver"
mkdir -p root/lib/modules root/out root/opt/arrow
[ -d "root/lib/modules/$kver" ] || cp -a "kernel/lib/modules/$kver" root/lib/modules/

# The initramfs only mounts the 9p share holding the Debian tree and switches to it.
rm -rf initramfs
mkdir -p initramfs/{bin,mods,proc,sys,dev,newroot,lib/x86_64-linux-gnu,lib64}
cp /usr/bin/busybox initramfs/bin/
cp /lib/x86_64-linux-gnu/libresolv.so.2 /lib/x86_64-linux-gnu/libc.so.6 initramfs/lib/x86_64-linux-gnu/
cp /lib64/ld-linux-x86-64.so.2 initramfs/lib64/
mods="virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci 9pnet 9pnet_virtio netfs fscache 9p"
for m in $mods; do
    cp "$(find "kernel/lib/modules/$kver" -name "$m.ko")" initramfs/mods/
done
cat > initramfs/init <<EOF
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs dev /dev
for m in $mods; do insmod /mods/\$m.ko; done
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 root /newroot || sh
umount /proc /sys /dev
exec switch_root /newroot /capture.sh
EOF
chmod +x initramfs/init
(cd initramfs && find . | cpio -o -H newc 2>/dev/null | gzip -1 > ../initramfs.gz)

cat > root/capture.sh <<'EOF'
#!/bin/sh
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
OUT=/out
modprobe -a e1000 bonding 8021q bridge veth tun
ip link add bond0 type bond mode active-backup miimon 100
ip link set eth1 down; ip link set eth1 master bond0
ip link set eth2 down; ip link set eth2 master bond0
ip link set bond0 up
ip link add link eth0 name eth0.10 type vlan id 10
ip link add br0 type bridge
ip link add veth0 type veth peer name veth1
ip link set veth1 master br0
ip tuntap add tap0 mode tap
ip tuntap add tun0 mode tun
ip link set lo up
ip link set eth0 up
ip addr add 10.0.2.15/24 dev eth0
ip route add default via 10.0.2.2 2>/dev/null
sleep 3
ip -V > $OUT/ip-version.txt
ip -j -d link > $OUT/ip-j-d-link.json
ip -j link > $OUT/ip-j-link.json
ip -d link > $OUT/ip-d-link.txt
ip link > $OUT/ip-link.txt
ip -o link > $OUT/ip-o-link.txt
ls -l /sys/class/net > $OUT/ls-l-sys-class-net.txt
for f in /sys/class/net/*/bonding_slave/perm_hwaddr; do echo "$f $(cat $f)"; done > $OUT/perm_hwaddr.txt
dmidecode > $OUT/dmidecode.txt 2> $OUT/dmidecode.stderr
mkdir -p $OUT/dmi-id
for f in /sys/class/dmi/id/*; do [ -f "$f" ] && cat "$f" > "$OUT/dmi-id/${f##*/}" 2>/dev/null; done
cat /proc/cpuinfo > $OUT/cpuinfo.txt
cat /proc/meminfo > $OUT/meminfo.txt
cd /opt/arrow
PYTHONPATH=agent python3 -m arrow_agent collect --dry-run > $OUT/agent-dry-run.json 2> $OUT/agent-dry-run.console
echo "dry-run exit $?" >> $OUT/agent-dry-run.console
PYTHONPATH=agent python3 -m arrow_agent collect --retry-initial 1 --deadline 60 > $OUT/agent-submit.stdout 2> $OUT/agent-submit.console
echo "submit exit $?" >> $OUT/agent-submit.console
sync
echo o > /proc/sysrq-trigger
sleep 30
EOF
chmod +x root/capture.sh
rm -rf root/opt/arrow/agent root/out/*
cp -a "$checkout/agent" root/opt/arrow/
find root/opt/arrow -name __pycache__ -prune -exec rm -rf {} +

# The stand-in backend: 503 once, then 200 with the backend's reply shape.
cat > stub_server.py <<'EOF'
import json, sys
from http.server import BaseHTTPRequestHandler, HTTPServer

port, out = int(sys.argv[1]), sys.argv[2]
calls = []

class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        calls.append({"path": self.path, "headers": sorted(self.headers.keys())})
        with open(f"{out}/stub-calls.json", "w") as handle:
            json.dump(calls, handle, indent=2)
        if len(calls) == 1:
            self.send_response(503)
            self.end_headers()
            return
        with open(f"{out}/submitted.json", "wb") as handle:
            handle.write(body)
        data = json.loads(body)["inventory_data"]
        reply = json.dumps({"device_id": "dev-capture-1", "status": "newly_inventoried",
                            "device_spec": data["device_spec"], "organization": None,
                            "imaging_status": "ready_for_imaging"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

HTTPServer(("127.0.0.1", port), Handler).serve_forever()
EOF
python3 stub_server.py "$port" "$work/root/out" > stub.log 2>&1 &
stub=$!
trap 'kill $stub' EXIT

timeout 600 qemu-system-x86_64 -accel tcg -m 1024 -smp 2 -nographic -no-reboot \
    -kernel "kernel/boot/vmlinuz-$kver" -initrd initramfs.gz \
    -append "console=ttyS0 quiet panic=-1 arrow.server=http://10.0.2.2:$port arrow.key=capture-key arrow.after=poweroff" \
    -virtfs "local,path=$work/root,mount_tag=root,security_model=passthrough" \
    -smbios "type=0,vendor=Intel Corp.,version=TNTGL357.0064.2022.0217.1533,date=02/17/2022" \
    -smbios "type=1,manufacturer=Intel(R) Client Systems,product=NUC11TNHi5,version=M11924-405,serial=To Be Filled By O.E.M.,family=TN" \
    -smbios "type=2,manufacturer=Intel Corporation,product=NUC11TNBi5,version=M11904-404,serial=BTTN20900ABC" \
    -smbios "type=3,manufacturer=Intel Corporation,version=2.0,serial=Default string" \
    -netdev user,id=n0 -device e1000,netdev=n0,mac=52:54:00:a0:00:01 \
    -netdev user,id=n1,restrict=on -device e1000,netdev=n1,mac=52:54:00:a0:00:02 \
    -netdev user,id=n2,restrict=on -device e1000,netdev=n2,mac=52:54:00:a0:00:03 \
    > qemu-console.log 2>&1
echo "captured into $work/root/out:"
ls "$work/root/out"
cat "$work/root/out/agent-submit.console"
