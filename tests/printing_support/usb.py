"""A stand-in for a pyusb ``usb.core.Device`` (no USB printer exists here).

Its bulk endpoints are wired to a :class:`VirtualPrinter`, so python-escpos'
real ``Usb`` class and Antre's USB backend run unchanged above it.  It
behaves as libusb does: a transfer that does not complete within its timeout
raises ``USBTimeoutError``, an unplugged device raises ``USBError`` (ENODEV).
It records every transfer with the timeout it was given.
"""

from __future__ import annotations

import array
from dataclasses import dataclass, field

import usb.core

from printing.virtual import VirtualPrinter


class _Backend:
    """Not libusb1: python-escpos then skips the kernel-driver dance."""


@dataclass
class Transfer:
    kind: str  # "write" | "read"
    endpoint: int
    size: int
    timeout: int | None


@dataclass
class FakeUsbDevice:
    printer: VirtualPrinter
    idVendor: int
    idProduct: int
    transfers: list[Transfer] = field(default_factory=list)
    configured: bool = False
    disposed: int = 0

    def __post_init__(self) -> None:
        self.backend = _Backend()

    def set_configuration(self) -> None:
        self.configured = True

    def reset(self) -> None:
        pass

    def write(self, endpoint: int, data: bytes, timeout: int | None = None) -> int:
        self.transfers.append(Transfer("write", endpoint, len(data), timeout))
        if not timeout:
            # libusb reads 0 as "no timeout": a hung printer would block forever.
            raise AssertionError("USB write without a timeout")
        try:
            self.printer.write(bytes(data), timeout=timeout / 1000)
        except TimeoutError:
            raise usb.core.USBTimeoutError("Operation timed out", -7, 110) from None
        except ConnectionError:
            raise usb.core.USBError("No such device (it may have been disconnected)", -4, 19) from None
        return len(data)

    def read(self, endpoint: int, size: int, timeout: int | None = None) -> array.array[int]:
        self.transfers.append(Transfer("read", endpoint, size, timeout))
        if not timeout:
            raise AssertionError("USB read without a timeout")
        try:
            data = self.printer.read(size, timeout=timeout / 1000)
        except ConnectionError:
            raise usb.core.USBError("No such device (it may have been disconnected)", -4, 19) from None
        if not data:
            raise usb.core.USBTimeoutError("Operation timed out", -7, 110)
        return array.array("B", data)
