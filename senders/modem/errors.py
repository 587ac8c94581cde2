"""What a modem's ``+CMS ERROR`` / ``+CME ERROR`` code means and what to do about it.

The meanings follow 3GPP TS 27.005 §3.2.5, 24.011 Table 8.4, 23.040 §9.2.3.22 and 27.007
§9.2 as tabulated by smstools3 (the modem AT manuals). The class is ours:

- ``permanent``: retrying the same message will not help (bad number, malformed PDU, barred
  subscription) — the row fails at once with the modem's words;
- otherwise transient: the dispatcher retries on its backoff ladder;
- ``reinit``: the modem lost its state (SIM, mode, network) — run the whole initialisation
  (PIN included) before the next send.

Unknown codes are transient: a vendor catch-all should not throw messages away.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.sending import PermanentError, SendError, TransientError
from senders.modem.at import AtError


@dataclass(frozen=True, slots=True)
class ErrorCode:
    meaning: str
    permanent: bool = False
    reinit: bool = False


CMS_ERRORS: dict[int, ErrorCode] = {
    1: ErrorCode("unassigned (unallocated) number", permanent=True),
    8: ErrorCode("operator determined barring", permanent=True),
    10: ErrorCode("call barred", permanent=True),
    21: ErrorCode("short message transfer rejected", permanent=True),
    27: ErrorCode("destination out of order", permanent=True),
    28: ErrorCode("unidentified subscriber", permanent=True),
    29: ErrorCode("facility rejected", permanent=True),
    30: ErrorCode("unknown subscriber", permanent=True),
    38: ErrorCode("network out of order"),
    41: ErrorCode("temporary failure"),
    42: ErrorCode("congestion"),
    47: ErrorCode("resources unavailable"),
    50: ErrorCode("requested facility not subscribed", permanent=True),
    69: ErrorCode("requested facility not implemented", permanent=True),
    95: ErrorCode("invalid short message transfer reference value", permanent=True),
    96: ErrorCode("invalid message, unspecified", permanent=True),
    97: ErrorCode("invalid mandatory information", permanent=True),
    98: ErrorCode("message type non-existent or not implemented", permanent=True),
    99: ErrorCode("message not compatible with short message protocol state", permanent=True),
    111: ErrorCode("protocol error, unspecified", permanent=True),
    192: ErrorCode("SC busy"),
    193: ErrorCode("no SC subscription", permanent=True),
    194: ErrorCode("SC system failure"),
    195: ErrorCode("invalid SME address", permanent=True),
    196: ErrorCode("destination SME barred", permanent=True),
    197: ErrorCode("SM rejected: duplicate SM", permanent=True),
    198: ErrorCode("TP-VPF not supported", permanent=True),
    199: ErrorCode("TP-VP not supported", permanent=True),
    300: ErrorCode("ME failure", reinit=True),
    301: ErrorCode("SMS service of ME reserved"),
    302: ErrorCode("operation not allowed", reinit=True),
    303: ErrorCode("operation not supported", permanent=True),
    304: ErrorCode("invalid PDU mode parameter", permanent=True),
    305: ErrorCode("invalid text mode parameter", permanent=True),
    310: ErrorCode("SIM not inserted", reinit=True),
    311: ErrorCode("SIM PIN required", reinit=True),
    312: ErrorCode("PH-SIM PIN required", reinit=True),
    313: ErrorCode("SIM failure", reinit=True),
    314: ErrorCode("SIM busy"),
    315: ErrorCode("SIM wrong", reinit=True),
    316: ErrorCode("SIM PUK required", reinit=True),
    317: ErrorCode("SIM PIN2 required", reinit=True),
    318: ErrorCode("SIM PUK2 required", reinit=True),
    320: ErrorCode("memory failure"),
    321: ErrorCode("invalid memory index"),
    322: ErrorCode("memory full"),
    330: ErrorCode("SMSC address unknown (set smsc in [[sms.modems]])", permanent=True),
    331: ErrorCode("no network service", reinit=True),
    332: ErrorCode("network timeout"),
    340: ErrorCode("no +CNMA acknowledgement expected"),
    500: ErrorCode("unknown error"),
    512: ErrorCode("MM establishment failure (weak signal?)"),
    513: ErrorCode("lower layer failure"),
    514: ErrorCode("network congestion"),
    515: ErrorCode("device busy, initialisation in progress"),
}

CME_ERRORS: dict[int, ErrorCode] = {
    3: ErrorCode("operation not allowed", reinit=True),
    4: ErrorCode("operation not supported", permanent=True),
    10: ErrorCode("SIM not inserted", reinit=True),
    11: ErrorCode("SIM PIN required", reinit=True),
    12: ErrorCode("SIM PUK required", reinit=True),
    13: ErrorCode("SIM failure", reinit=True),
    14: ErrorCode("SIM busy"),
    15: ErrorCode("SIM wrong", reinit=True),
    16: ErrorCode("incorrect password"),
    17: ErrorCode("SIM PIN2 required"),
    18: ErrorCode("SIM PUK2 required"),
    30: ErrorCode("no network service", reinit=True),
    31: ErrorCode("network timeout"),
    32: ErrorCode("network not allowed, emergency calls only", reinit=True),
    100: ErrorCode("unknown error"),
    262: ErrorCode("SIM blocked", reinit=True),
    515: ErrorCode("device busy"),
    772: ErrorCode("SIM powered down", reinit=True),
}

TABLES: dict[str, dict[int, ErrorCode]] = {"CMS": CMS_ERRORS, "CME": CME_ERRORS}
UNKNOWN = ErrorCode("no error code from the modem")


def lookup(error: AtError) -> ErrorCode:
    """The table entry for a modem error (textual ``AT+CMEE=2`` answers are kept verbatim)."""
    if error.code is None:
        return ErrorCode(error.text or UNKNOWN.meaning)
    return TABLES.get(error.kind, {}).get(error.code, ErrorCode(f"error {error.code}"))


def describe(error: AtError) -> str:
    """``+CMS ERROR: 21 (short message transfer rejected)``."""
    entry = lookup(error)
    if error.kind and error.code is not None:
        return f"+{error.kind} ERROR: {error.code} ({entry.meaning})"
    if error.kind:
        return f"+{error.kind} ERROR: {error.text}"
    return error.text or "ERROR"


def send_error(modem: str, error: AtError) -> SendError:
    """The classified error the dispatcher gets for a failed ``AT+CMGS``."""
    entry = lookup(error)
    cls = PermanentError if entry.permanent else TransientError
    return cls(f"modem {modem}: {describe(error)}", provider=modem)
