"""A live status line for management commands: redrawn in place on a terminal, silent
otherwise (cron, CI and pipes get plain lines from the caller instead)."""

from __future__ import annotations

_CLEAR_LINE = "\r\x1b[K"  # back to column 0 and erase, so a shorter status leaves no tail


class LiveLine:
    def __init__(self, out):
        self.out = out
        self.tty = hasattr(out, "isatty") and out.isatty()

    def status(self, text: str) -> None:
        """Redraw the status line (terminal only)."""
        if self.tty:
            self.out.write(_CLEAR_LINE + text, ending="")
            self.out.flush()

    def line(self, text: str) -> None:
        """A lasting line, written above the status line on a terminal."""
        self.out.write((_CLEAR_LINE if self.tty else "") + text)

    def close(self) -> None:
        """End the status line so what follows starts on a fresh line."""
        if self.tty:
            self.out.write("")
