"""factory_boy factories, one per model; MACs are canonical and come from a sequence."""

from __future__ import annotations

import factory

from inventory.choices import InventoryStatus
from inventory.models import Device, DeviceMac, DeviceSpec, Organization


def mac_from_number(n: int) -> str:
    raw = f"{0x02AA00000000 + n:012x}"  # locally administered range, never a real vendor
    return ":".join(raw[i : i + 2] for i in range(0, 12, 2))


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Org {n}")
    slug = factory.Sequence(lambda n: f"org-{n}")


class DeviceSpecFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DeviceSpec

    name = factory.Sequence(lambda n: f"Spec {n}")
    name_patterns = factory.LazyFunction(list)


class DeviceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Device

    name = factory.Sequence(lambda n: f"PVE-{n:04d}")
    serial_number = factory.Sequence(lambda n: f"SN{n:06d}")
    sn_source = "dmidecode"
    hardware_generated_sn = True
    inventory_status = InventoryStatus.NEWLY_INVENTORIED


class DeviceMacFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DeviceMac

    device = factory.SubFactory(DeviceFactory)
    mac = factory.Sequence(mac_from_number)
    interface = "eth0"
