"""Antre's ticket printer device layer.

* :mod:`printing.ticket` renders a :class:`TicketPrint` to ESC/POS bytes;
* :mod:`printing.backends` opens a printer from a URI (``usb:``, ``tcp://``,
  ``serial:``, ``cups:``, ``file:``, ``virtual``) behind one small interface;
* :mod:`printing.worker` prints jobs off the request path, one lane per printer;
* :mod:`printing.virtual` and :mod:`printing.fake_network_printer` emulate
  printers, with faults, for tests, demos and benchmarks;
* :mod:`printing.decode` reads ESC/POS back into lines, QR codes and cuts.
"""

from printing.backends import Printer, backend_schemes, open_printer, register_backend
from printing.status import PaperOut, PrinterError, PrinterOffline, PrinterStatus, PrinterTimeout
from printing.ticket import TicketPrint, render_ticket
from printing.worker import PrintJob, PrintWorker

__all__ = [
    "PaperOut",
    "PrintJob",
    "PrintWorker",
    "Printer",
    "PrinterError",
    "PrinterOffline",
    "PrinterStatus",
    "PrinterTimeout",
    "TicketPrint",
    "backend_schemes",
    "open_printer",
    "register_backend",
    "render_ticket",
]
