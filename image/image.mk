# The inventory image: build/image/vmlinuz and build/image/initrd.img (see docs/image.md).
# Included by the main Makefile; also works alone from the repository root:
#     make -f image/image.mk image
# image/build.sh needs root. It caches the debootstrap root and the kernel package under
# var/cache/image, so a rebuild after an agent change takes seconds.

IMAGE_OUT := build/image
IMAGE_AGENT := $(or $(ARROW_AGENT_DIR),agent/arrow_agent)
IMAGE_INPUTS := image/build.sh image/init image/udhcpc.script image/modules.txt \
	$(shell find $(IMAGE_AGENT) -type f -name '*.py' 2>/dev/null | LC_ALL=C sort)

# Make sees a changed file but not a removed one or a changed setting, so the list of inputs and
# the build settings are kept in a file that is rewritten only when they change.
IMAGE_SETTINGS := $(IMAGE_OUT)/.inputs
IMAGE_SETTINGS_TEXT := $(IMAGE_INPUTS) modem=$(ARROW_MODEM) zstd=$(ARROW_ZSTD_LEVEL) \
	kernel=$(ARROW_KERNEL_PKG) mirror=$(ARROW_MIRROR)
ifneq ($(file <$(IMAGE_SETTINGS)),$(strip $(IMAGE_SETTINGS_TEXT)))
$(shell mkdir -p $(IMAGE_OUT))
$(file >$(IMAGE_SETTINGS),$(strip $(IMAGE_SETTINGS_TEXT)))
endif

.PHONY: image image-clean

image: $(IMAGE_OUT)/initrd.img $(IMAGE_OUT)/vmlinuz

$(IMAGE_OUT)/initrd.img $(IMAGE_OUT)/vmlinuz &: $(IMAGE_INPUTS) $(IMAGE_SETTINGS)
	bash image/build.sh

# Keeps var/cache/image (the debootstrap root and the kernel package): deleting those only makes
# the next build slower.
image-clean:
	rm -rf $(IMAGE_OUT) var/cache/image/stage
