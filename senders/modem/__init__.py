"""The GSM modem channel: SMS through USB modems on serial ports, AT commands in PDU mode.

``pdu`` encodes SMS-SUBMIT, ``at`` speaks AT over pyserial-asyncio, ``errors`` maps
``+CMS/+CME ERROR`` codes to permanent/transient, ``initialisation`` brings a modem up
(init, PIN, registration, signal), ``state`` is what a modem shows on /status, ``modem``
drives one modem (connect, send, reconnect), ``pool`` is the Sender over all
``[[sms.modems]]``.
"""

from senders.modem.pool import ModemPool

__all__ = ["ModemPool"]
