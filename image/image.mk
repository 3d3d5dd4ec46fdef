# The inventory image: build/image/vmlinuz and build/image/initrd.img (see docs/image.md).
# Included by the main Makefile; also works alone from the repository root:
#     make -f image/image.mk image
# image/build.sh needs root. It caches the debootstrap root and the kernel package under
# var/cache/image, so a rebuild after an agent change takes seconds.

IMAGE_OUT := build/image
IMAGE_AGENT := $(realpath $(or $(ARROW_AGENT_DIR),agent/arrow_agent))
IMAGE_INPUTS := image/build.sh image/init image/udhcpc.script image/modules.txt image/firmware.txt \
	$(shell find $(IMAGE_AGENT) -type f -name '*.py' 2>/dev/null | LC_ALL=C sort)

# Make notices a changed file, but not a removed one: keep the list of inputs in a file that is
# rewritten only when the list changes.
IMAGE_LIST := $(IMAGE_OUT)/inputs.list
ifneq ($(file <$(IMAGE_LIST)),$(strip $(IMAGE_INPUTS)))
$(shell mkdir -p $(IMAGE_OUT))
$(file >$(IMAGE_LIST),$(strip $(IMAGE_INPUTS)))
endif

# build.sh records the settings it built with; build again when they differ from these (say,
# after a manual ARROW_MODEM=1 build). Keep the format in step with the end of build.sh.
IMAGE_SETTINGS := modem=$(or $(ARROW_MODEM),0) zstd=$(or $(ARROW_ZSTD_LEVEL),9) \
	agent=$(IMAGE_AGENT) kernel=$(ARROW_KERNEL_PKG) kernel_suite=$(ARROW_KERNEL_SUITE) \
	mirror=$(ARROW_MIRROR)
ifneq ($(file <$(IMAGE_OUT)/settings),$(strip $(IMAGE_SETTINGS)))
IMAGE_FORCE := image-force
endif

.PHONY: image image-clean image-force

image: $(IMAGE_OUT)/initrd.img $(IMAGE_OUT)/vmlinuz

$(IMAGE_OUT)/initrd.img $(IMAGE_OUT)/vmlinuz &: $(IMAGE_INPUTS) $(IMAGE_LIST) $(IMAGE_FORCE)
	bash scripts/system-packages.sh image
	bash image/build.sh

# Keeps var/cache/image (the debootstrap root and the kernel package): deleting those only makes
# the next build slower.
image-clean:
	rm -rf $(IMAGE_OUT) var/cache/image/stage
