"""A real SMS gateway for the tests: Kannel's bearerbox and smsbox, with fakesmsc as the operator.

``KannelGateway`` starts, on free ports of 127.0.0.1 and in a folder of its own:

- **bearerbox** with two fake SMSC links: ``operator`` (where MT messages go; a ``fakesmsc -m 0``
  prints each one, and a reader thread collects them) and ``phones`` (where ``send_from_phone``
  injects MO messages, one short-lived ``fakesmsc -m 1`` each; nothing is ever routed to it);
- **smsbox** with the HTTP ``sendsms`` interface, one ``sendsms-user`` and an ``sms-service``
  (``keyword = default``) that calls the URL the tests give it, with a shared secret.

What Kannel answers, and what the fake operator can and cannot do, is in ``KANNEL.md`` next to
this file.
"""

from __future__ import annotations

import contextlib
import os
import re
import select
import shutil
import signal
import subprocess
import tempfile
import threading
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from tests.support.servers import free_port, port_open, port_refused, wait_for

BEARERBOX = Path("/usr/sbin/bearerbox")
SMSBOX = Path("/usr/sbin/smsbox")
FAKESMSC = Path("/usr/lib/kannel/test/fakesmsc")

#: GSM 03.38: the default alphabet and its extension table (each extension character costs two).
GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = "\f^{}\\[~]|€"
_GSM7 = frozenset(GSM7_BASIC + GSM7_EXTENSION)

# fakesmsc prints each MT message it gets as "... Got message 12: <sender receiver type data>".
_GOT = re.compile(rb"Got message \d+: <(.*)>\s*$")


def is_gsm7(text: str) -> bool:
    """Whether ``text`` fits GSM-7; anything else must go as UCS-2 (``coding=2``)."""
    return all(char in _GSM7 for char in text)


def binaries() -> dict[str, Path]:
    """The Kannel programs, or a clear error when the packages are missing."""
    found = {"bearerbox": BEARERBOX, "smsbox": SMSBOX, "fakesmsc": FAKESMSC}
    missing = [str(path) for path in found.values() if not os.access(path, os.X_OK)]
    if missing:
        raise RuntimeError(f"Kannel is not installed ({', '.join(missing)}): run scripts/system-deps.sh")
    return found


# --- MT messages as the operator sees them -----------------------------------------------------


@dataclass(frozen=True)
class MTMessage:
    """One message that reached the fake operator (the parts of a long one put back together)."""

    sender: str
    receiver: str
    text: str
    #: "gsm" (Kannel's 7-bit text), "ucs2" or "8bit": how the message went to the operator.
    coding: str
    #: How many SMS it took (what the sender pays for).
    parts: int
    #: The message body as bytes: UTF-8 for "gsm", UTF-16-BE for "ucs2".
    data: bytes


def _unquote(value: bytes) -> bytes:
    """Undo Kannel's url-encoding (octstr_url_encode: '+' for space, %XX for the rest)."""
    return urllib.parse.unquote_to_bytes(value.replace(b"+", b" "))


def _decode(data: bytes, coding: str) -> str:
    if coding == "ucs2":
        return data.decode("utf-16-be", errors="replace")
    return data.decode("utf-8", errors="replace")


def _guess_coding(data: bytes) -> str:
    """The coding of a multipart body: fakesmsc prints those as ``udh ... data ...`` either way.

    Kannel keeps 7-bit text as UTF-8, which never holds a NUL byte; UCS-2 text with a space, a
    digit or a Latin letter always does (their high byte is 0). So a NUL means UCS-2.
    """
    if b"\x00" in data or (len(data) % 2 == 0 and not _is_utf8(data)):
        return "ucs2"
    return "gsm"


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _concat_info(udh: bytes) -> tuple[int, int, int] | None:
    """(reference, total, sequence) from a concatenation header (IEI 0 or 8), else None."""
    body = udh[1 : 1 + udh[0]] if udh else b""
    i = 0
    while i + 2 <= len(body):
        iei, length = body[i], body[i + 1]
        value = body[i + 2 : i + 2 + length]
        if iei == 0x00 and length == 3:
            return value[0], value[1], value[2]
        if iei == 0x08 and length == 4:
            return (value[0] << 8) | value[1], value[2], value[3]
        i += 2 + length
    return None


class _OperatorLog:
    """Collects the MT messages fakesmsc prints, in order, from a reader thread per fakesmsc.

    The fake protocol is one line per message and a GSM-7 text goes as is, so a text with a
    newline reaches fakesmsc as two lines ("Got message 1: <Einstein 316.. text Regel een>",
    "Got message 2: <Regel twee>"). A line that is no message continues the text before it, which
    is therefore published only once fakesmsc has been quiet for ``settle`` seconds.
    """

    settle = 0.05

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self.messages: list[MTMessage] = []
        self.lines: list[bytes] = []
        self.unparsed: list[bytes] = []
        self._parts: dict[tuple[str, str, int], dict[int, bytes]] = {}
        self._pending: tuple[str, str, bytes] | None = None

    def read(self, stream: IO[bytes]) -> None:
        """Read fakesmsc's output until it ends (run in a thread; closes ``stream``)."""
        fd = stream.fileno()
        buffer = b""
        try:
            while True:
                ready, _, _ = select.select([fd], [], [], self.settle if self._pending else None)
                chunk = os.read(fd, 65536) if ready else b""
                with self._lock:
                    if not chunk:
                        self._publish_pending()
                        if ready:  # end of output
                            return
                        continue
                    buffer += chunk
                    *lines, buffer = buffer.split(b"\n")
                    for line in lines:
                        self._take_line(line)
        finally:
            stream.close()

    def _take_line(self, line: bytes) -> None:
        self.lines.append(line + b"\n")
        match = _GOT.search(line)
        if not match:
            return
        body = match.group(1)
        words = body.split(b" ", 3)
        kind = words[2] if len(words) > 2 else b""
        if kind not in (b"text", b"ucs-2", b"data", b"udh"):
            if self._pending is not None:
                sender, receiver, data = self._pending
                self._pending = (sender, receiver, data + b"\n" + body)
            else:
                self.unparsed.append(body)
            return
        self._publish_pending()
        sender, receiver = words[0].decode(errors="replace"), words[1].decode(errors="replace")
        rest = words[3] if len(words) > 3 else b""
        if kind == b"text":
            self._pending = (sender, receiver, rest)
        elif kind == b"ucs-2":
            self._add(sender, receiver, _unquote(rest), "ucs2", 1)
        elif kind == b"data":
            self._add(sender, receiver, _unquote(rest), "8bit", 1)
        else:
            # "udh <udh> data <data>" (Kannel 1.4.5) or "udh <udh> <data>" (older)
            udh, _, tail = rest.partition(b" ")
            if tail.startswith(b"data "):
                tail = tail[len(b"data ") :]
            self._add_part(sender, receiver, _unquote(udh), _unquote(tail))

    def _publish_pending(self) -> None:
        if self._pending is not None:
            sender, receiver, data = self._pending
            self._pending = None
            self._add(sender, receiver, data, "gsm", 1)

    def _add(self, sender: str, receiver: str, data: bytes, coding: str, parts: int) -> None:
        self.messages.append(MTMessage(sender, receiver, _decode(data, coding), coding, parts, data))
        self._lock.notify_all()

    def _add_part(self, sender: str, receiver: str, udh: bytes, data: bytes) -> None:
        concat = _concat_info(udh)
        if concat is None:
            self._add(sender, receiver, data, _guess_coding(data), 1)
            return
        reference, total, sequence = concat
        parts = self._parts.setdefault((sender, receiver, reference), {})
        parts[sequence] = data
        if len(parts) == total:
            del self._parts[(sender, receiver, reference)]
            whole = b"".join(parts[number] for number in sorted(parts))
            self._add(sender, receiver, whole, _guess_coding(whole), total)

    def wait_for_count(self, count: int, timeout: float) -> list[MTMessage]:
        with self._lock:
            if not self._lock.wait_for(lambda: len(self.messages) >= count, timeout=timeout):
                raise TimeoutError(f"timed out after {timeout}s waiting for {count} MT message(s): {self.messages}")
            return list(self.messages)

    def snapshot(self) -> list[MTMessage]:
        with self._lock:
            return list(self.messages)

    def output(self) -> list[bytes]:
        with self._lock:
            return list(self.lines)

    def clear(self) -> None:
        with self._lock:
            self.messages.clear()
            self.unparsed.clear()
            self._parts.clear()
            self._pending = None


# --- processes ---------------------------------------------------------------------------------


def _stat(path: Path) -> list[str] | None:
    """The fields of a /proc ``stat`` file after the command's name (state first), or None if gone."""
    try:
        stat = path.read_text()
    except OSError:
        return None
    return stat[stat.rfind(")") + 2 :].split()


def _group_members(pgid: int) -> list[int]:
    """Live (not zombie) processes in process group ``pgid``, read from /proc."""
    members = []
    for entry in Path("/proc").iterdir():
        fields = _stat(entry / "stat") if entry.name.isdigit() else None
        if fields is not None and fields[0] != "Z" and int(fields[2]) == pgid:
            members.append(int(entry.name))
    return members


def _all_stopped(pids: list[int]) -> bool:
    """Whether every thread of these processes is stopped (SIGSTOP has taken effect)."""
    for pid in pids:
        for task in Path(f"/proc/{pid}/task").glob("*"):
            fields = _stat(task / "stat")
            if fields is not None and fields[0] not in ("T", "t"):
                return False
    return True


class _Process:
    """One Kannel program in a process group of its own.

    smsbox restarts itself by fork + exec when bearerbox goes away (a new pid, same group), so
    stopping means: signal the whole group, then wait until no member of it is left.
    """

    def __init__(self, name: str, argv: list[str], directory: Path, *, pipe: bool = False) -> None:
        self.name = name
        self.argv = argv
        self.directory = directory
        self.pipe = pipe
        self.process: subprocess.Popen[bytes] | None = None
        self.pgid: int | None = None
        self._log: IO[bytes] | None = None

    @property
    def log_path(self) -> Path:
        return self.directory / f"{self.name}.out"

    def start(self) -> subprocess.Popen[bytes]:
        self.stop()
        self._log = None if self.pipe else open(self.log_path, "ab")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(
            self.argv,
            cwd=self.directory,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE if self.pipe else self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.pgid = self.process.pid
        return self.process

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def members(self) -> list[int]:
        return _group_members(self.pgid) if self.pgid is not None else []

    def send_signal(self, signum: int) -> None:
        if self.pgid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pgid, signum)

    def stop(self, signum: int = signal.SIGTERM, timeout: float = 5.0) -> None:
        """Signal the group, wait for every member to end; SIGKILL what is left after ``timeout``."""
        if self.pgid is not None:
            self.send_signal(signal.SIGCONT)
            self.send_signal(signum)
            try:
                wait_for(lambda: not self.members(), timeout=timeout, what=f"{self.name} to end")
            except TimeoutError:
                self.send_signal(signal.SIGKILL)
                wait_for(lambda: not self.members(), timeout=5, what=f"{self.name} to die")
        if self.process is not None:
            self.process.wait(timeout=5)  # a pipe is closed by the thread that reads it
        if self._log is not None:
            self._log.close()
        self.process = self.pgid = self._log = None


# --- the gateway -------------------------------------------------------------------------------


class KannelGateway:
    """bearerbox + smsbox + a fake operator, all listening on free ports of 127.0.0.1 only.

    ``mo_url`` is where the ``sms-service`` sends replies from phones: Kannel calls
    ``GET {mo_url}?secret=..&from=%p&to=%P&text=%b&charset=%C&coding=%c&id=%I&smsc=%i``.
    """

    def __init__(
        self,
        mo_url: str,
        *,
        directory: Path | None = None,
        username: str = "einstein",
        password: str = "sendsms-test-password",  # noqa: S107 (a test gateway on 127.0.0.1)
        secret: str = "mo-test-secret",  # noqa: S107
        number: str = "4000",
        queue_limit: int = 5,
        unroutable_prefix: str = "999",
        http_retries: int = 2,
    ) -> None:
        if "%" in mo_url or urllib.parse.quote(secret, safe="") != secret:
            raise ValueError("mo_url and secret must hold no '%' (Kannel reads it as an escape) or other escapes")
        self.binaries = binaries()
        self.mo_url = mo_url
        self._own_directory = directory is None
        self.directory = directory or Path(tempfile.mkdtemp(prefix="einstein-kannel-"))
        self.username = username
        self.password = password
        self.secret = secret
        #: The gateway's own number: what phones send their replies to.
        self.number = number
        #: Messages bearerbox keeps while the operator is away before it answers 503.
        self.queue_limit = queue_limit
        #: Receivers starting with this have no route: sendsms answers 403 "Not routable".
        self.unroutable_prefix = unroutable_prefix
        #: How often smsbox calls ``mo_url`` and ``dlr-url`` again after an error (1 s apart).
        self.http_retries = http_retries
        self.admin_port = free_port()
        self.admin_password = "admin-test-password"
        self.smsbox_port = free_port()
        self.sendsms_port = free_port()
        self.operator_port = free_port()
        self.phones_port = free_port()
        self.config_path = self.directory / "kannel.conf"
        config = str(self.config_path)
        self.bearerbox = _Process("bearerbox", [str(BEARERBOX), "-v", "4", config], self.directory)
        self.smsbox = _Process("smsbox", [str(SMSBOX), "-v", "4", config], self.directory)
        self.operator = _Process(
            "operator",
            [
                str(FAKESMSC),
                *("-H", "127.0.0.1", "-r", str(self.operator_port), "-i", "0", "-m", "0"),
                "0 0 text never-sent",
            ],
            self.directory,
            pipe=True,
        )
        self._operator_log = _OperatorLog()
        self._readers: list[threading.Thread] = []
        self._inject_lock = threading.Lock()

    # -- what einstein needs to know --

    @property
    def sendsms_url(self) -> str:
        return f"http://127.0.0.1:{self.sendsms_port}/cgi-bin/sendsms"

    @property
    def admin_url(self) -> str:
        return f"http://127.0.0.1:{self.admin_port}"

    # -- configuration --

    def config(self) -> str:
        """kannel.conf for this gateway."""
        d = self.directory
        separator = "&" if "?" in self.mo_url else "?"
        fields = "from=%p&to=%P&text=%b&charset=%C&coding=%c&id=%I&smsc=%i"
        get_url = f"{self.mo_url}{separator}secret={self.secret}&{fields}"
        return f"""\
group = core
admin-port = {self.admin_port}
admin-interface = 127.0.0.1
admin-password = {self.admin_password}
smsbox-port = {self.smsbox_port}
smsbox-interface = 127.0.0.1
log-file = "{d}/bearerbox.log"
log-level = 0
access-log = "{d}/access.log"
store-type = file
store-location = "{d}/kannel.store"
dlr-storage = internal
sms-resend-freq = 1
sms-outgoing-queue-limit = {self.queue_limit}

group = smsc
smsc = fake
smsc-id = operator
our-host = 127.0.0.1
port = {self.operator_port}
denied-prefix = {self.unroutable_prefix}

group = smsc
smsc = fake
smsc-id = phones
our-host = 127.0.0.1
port = {self.phones_port}
allowed-smsc-id = phones

group = smsbox
bearerbox-host = 127.0.0.1
sendsms-port = {self.sendsms_port}
sendsms-interface = 127.0.0.1
log-file = "{d}/smsbox.log"
log-level = 0
access-log = "{d}/smsbox-access.log"
mo-recode = true
http-request-retry = {self.http_retries}
http-queue-delay = 1

group = sendsms-user
username = {self.username}
password = {self.password}
max-messages = 10
concatenation = true

group = sms-service
keyword = default
catch-all = true
get-url = "{get_url}"
max-messages = 0
omit-empty = true
"""

    # -- starting and stopping --

    def start(self, timeout: float = 60.0) -> None:
        """Start (or bring back) bearerbox, smsbox and the operator; wait until all are linked up.

        The wait is long because it costs nothing when they come up: on two cores loaded by the
        whole test run (load 15 to 18) linking them took longer than the 15 s once given.

        If they do not come up, everything is stopped before the error (with what bearerbox and
        smsbox said) goes up: nothing is left running for later tests to trip over.
        """
        try:
            self._start(timeout)
        except TimeoutError as error:
            said = "\n".join(
                f"--- {p.name}: {p.log_path.read_text(errors='replace')[-2000:]}"
                for p in (self.bearerbox, self.smsbox)
                if p.log_path.exists()
            )
            self.stop()
            raise TimeoutError(f"{error}\n{said}") from None

    def _start(self, timeout: float) -> None:
        self.config_path.write_text(self.config())
        if not self.bearerbox.running():
            # A smsbox left from a crashed bearerbox sleeps before it restarts itself: kill it.
            self.smsbox.stop(signal.SIGKILL)
            self.operator.stop()
            self.bearerbox.start()
            wait_for(lambda: self._status() is not None, timeout=timeout, what="bearerbox to answer")
        if not self.smsbox.running():
            self.smsbox.start()
        if not self.operator.running():
            self.operator_up(timeout=timeout)
        wait_for(self.ready, timeout=timeout, what="smsbox and the operator to be linked to bearerbox")

    def stop(self) -> None:
        """Stop everything, leaving no process behind; remove the folder if it is ours."""
        self.operator.stop()
        # Without bearerbox, smsbox sleeps 10 s and then execs itself again, whatever signal it
        # got meanwhile: only SIGKILL ends it.
        self.smsbox.stop(signal.SIGTERM if self.bearerbox.running() else signal.SIGKILL)
        self.bearerbox.stop()
        for reader in self._readers:
            reader.join(timeout=5)
        self._readers.clear()
        if self._own_directory:
            shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> KannelGateway:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def processes(self) -> list[int]:
        """Every live process the gateway started (for 'nothing left behind' checks)."""
        return [pid for p in (self.bearerbox, self.smsbox, self.operator) for pid in p.members()]

    # -- status --

    def _status(self) -> ET.Element | None:
        url = f"{self.admin_url}/status.xml?password={urllib.parse.quote(self.admin_password)}"
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (our own gateway)
                return ET.fromstring(response.read())  # noqa: S314 (our own gateway)
        except (OSError, ET.ParseError):
            return None

    def status(self) -> dict[str, str]:
        """What bearerbox says about its links: {"smsbox": "on-line ...", "operator": "online 3s", ...}."""
        root = self._status()
        if root is None:
            return {}
        result = {box.findtext("type", ""): box.findtext("status", "") for box in root.iter("box")}
        for smsc in root.iter("smsc"):
            result[smsc.findtext("id", "")] = smsc.findtext("status", "")
        return result

    def ready(self) -> bool:
        status = self.status()
        return (
            status.get("smsbox", "").startswith("on-line")
            and status.get("operator", "").startswith("online")
            and port_open(self.sendsms_port)
        )

    # -- failures a test can cause --

    def stop_bearerbox(self, *, crash: bool = False) -> None:
        """Stop bearerbox: SIGTERM (it tells smsbox to quit too) or, with ``crash``, SIGKILL.

        Either way smsbox closes its HTTP port at once (sendsms: connection refused). After a
        crash smsbox execs itself again 11 s later and keeps trying to reach bearerbox.
        """
        self.bearerbox.stop(signal.SIGKILL if crash else signal.SIGTERM)
        if not crash:
            self.smsbox.stop()
            self.operator.stop()
        else:
            wait_for(lambda: port_refused(self.sendsms_port, timeout=1), timeout=10, what="smsbox to close sendsms")

    def freeze_bearerbox(self) -> None:
        """SIGSTOP bearerbox: smsbox accepts sendsms requests but never answers them."""
        self.bearerbox.send_signal(signal.SIGSTOP)
        wait_for(lambda: _all_stopped(self.bearerbox.members()), timeout=5, what="bearerbox to stop")

    def thaw_bearerbox(self) -> None:
        self.bearerbox.send_signal(signal.SIGCONT)

    def stop_smsbox(self) -> None:
        """Stop smsbox only: sendsms is refused; bearerbox keeps MO messages until it is back."""
        self.smsbox.stop()

    def operator_down(self) -> None:
        """Cut the link to the operator: bearerbox queues MT messages ("3: Queued for later delivery")."""
        self.operator.stop()
        wait_for(
            lambda: not self.status().get("operator", "").startswith("online"),
            timeout=5,
            what="bearerbox to see the operator gone",
        )

    def operator_up(self, timeout: float = 10.0) -> None:
        """(Re)connect the fake operator; bearerbox then sends what it queued."""
        # Never probe the fake SMSC's port: bearerbox takes any connection there for the operator
        # and hands it the queued messages (then counts them as delivered).
        wait_for(lambda: "operator" in self.status(), timeout=timeout, what="bearerbox's operator link")
        process = self.operator.start()
        assert process.stdout is not None
        reader = threading.Thread(
            target=self._operator_log.read, args=(process.stdout,), name="fakesmsc-reader", daemon=True
        )
        reader.start()
        self._readers.append(reader)
        wait_for(
            lambda: self.status().get("operator", "").startswith("online"),
            timeout=timeout,
            what="the operator link to come up",
        )

    # -- MT: einstein -> phone --

    def sendsms(
        self,
        to: str,
        text: str,
        *,
        sender: str = "Einstein",
        coding: int | None = None,
        dlr_mask: int | None = None,
        dlr_url: str | None = None,
        timeout: float = 5.0,
    ) -> tuple[int, str]:
        """Call sendsms as einstein will; returns (HTTP status, body). UCS-2 unless GSM-7 fits.

        Raises ``urllib.error.URLError`` when smsbox cannot be reached (connection refused) and
        ``TimeoutError`` when it does not answer in time.
        """
        params = {
            "username": self.username,
            "password": self.password,
            "from": sender,
            "to": to,
            "text": text,
            "charset": "UTF-8",
            "coding": str(coding if coding is not None else (0 if is_gsm7(text) else 2)),
        }
        if dlr_mask is not None:
            params["dlr-mask"] = str(dlr_mask)
        if dlr_url is not None:
            params["dlr-url"] = dlr_url
        url = f"{self.sendsms_url}?{urllib.parse.urlencode(params)}"
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (our own gateway)
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    @property
    def mt_messages(self) -> list[MTMessage]:
        """What the operator received so far, in order."""
        return self._operator_log.snapshot()

    def wait_for_mt(self, count: int = 1, timeout: float = 10.0) -> list[MTMessage]:
        """Wait until the operator has received ``count`` messages; return all of them."""
        return self._operator_log.wait_for_count(count, timeout)

    def clear_mt(self) -> None:
        self._operator_log.clear()

    @property
    def operator_output(self) -> list[bytes]:
        """Every line fakesmsc printed (for debugging a failed test)."""
        return self._operator_log.output()

    # -- MO: phone -> einstein --

    def send_from_phone(self, sender: str, text: str, *, to: str | None = None, timeout: float = 5.0) -> None:
        """Inject a message from ``sender``'s phone to the gateway's number, as the operator would.

        GSM-7 text goes as fakesmsc's ``text`` type, anything else (Arabic, Tigrinya, a newline)
        as ``ucs2``, like a phone does; smsbox's ``mo-recode`` hands it to einstein as UTF-8.
        Returns once fakesmsc has written it to bearerbox.
        """
        if " " in sender or "\n" in sender:
            raise ValueError("a sender is one word")
        if is_gsm7(text) and "\n" not in text and "\r" not in text:
            line = f"{sender} {to or self.number} text {text}"
        else:
            encoded = urllib.parse.quote_from_bytes(text.encode("utf-16-be"), safe="")
            line = f"{sender} {to or self.number} ucs2 {encoded}"
        # The fake SMSC serves one client at a time: one injector after another.
        with self._inject_lock:
            injector = subprocess.Popen(
                [str(FAKESMSC), "-H", "127.0.0.1", "-r", str(self.phones_port), "-i", "0", "-m", "1", line],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            assert injector.stdout is not None
            output: list[bytes] = []
            # fakesmsc logs "sent message 1" once the line is written, then waits for replies
            # forever: end it with SIGTERM (its SIGINT handler races with its poll and may hang).
            timer = threading.Timer(timeout, injector.kill)
            timer.start()
            try:
                for out in iter(injector.stdout.readline, b""):
                    output.append(out)
                    if b"sent message 1" in out:
                        break
            finally:
                timer.cancel()
                injector.terminate()
                injector.wait(timeout=5)
                injector.stdout.close()
            if not any(b"sent message 1" in out for out in output):
                raise RuntimeError(
                    "fakesmsc did not send the MO message:\n" + b"".join(output).decode(errors="replace")
                )

    # -- debugging --

    def logs(self, lines: int = 40) -> str:
        """The end of each log, for an assertion message."""
        parts = []
        for name in ("bearerbox.log", "smsbox.log", "bearerbox.out", "smsbox.out"):
            path = self.directory / name
            if path.exists():
                tail = path.read_text(errors="replace").splitlines()[-lines:]
                parts.append(f"--- {name}\n" + "\n".join(tail))
        parts.append("--- operator\n" + b"".join(self.operator_output[-lines:]).decode(errors="replace"))
        return "\n".join(parts)
