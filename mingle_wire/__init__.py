"""Mingle's wire contract v1: everything that crosses the MQTT broker.

Standard library only, so a gateway installs it without numpy or scikit-learn.
See ``docs/protocol.md`` for the contract in prose.
"""

from .codec import (
    MAX_PAYLOAD_BYTES,
    Decoded,
    Parser,
    decode_contacts,
    decode_inbound,
    decode_positions,
    decode_readings,
    dumps,
    encode_contacts,
    encode_positions,
    encode_readings,
    loads,
)
from .columns import ContactColumns, ReadingColumns, decode_contact_columns, decode_reading_columns
from .control import MAX_PAUSE_S, Pause, decode_pause, encode_pause
from .errors import DecodeError, RecordingError, WireError
from .messages import (
    MAX_ITEMS,
    MAX_SKEW_S,
    PROTOCOL_VERSION,
    RSSI_MAX_DBM,
    RSSI_MIN_DBM,
    Alert,
    Contact,
    ContactBatch,
    FieldTypeError,
    FieldValueError,
    Frame,
    FrameBadge,
    FrameCluster,
    Position,
    PositionBatch,
    Reading,
    ReadingBatch,
    Suggestion,
)
from .outputs import alert_from_dict, alert_to_dict, encode_alert, encode_frame, frame_from_dict, frame_to_dict
from .recording import RecordedMessage, RecordingWriter, open_text, read_recording
from .topics import DEFAULT_PREFIX, ID_PATTERN, ParsedTopic, Topics, parse_topic, valid_id

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_PREFIX",
    "ID_PATTERN",
    "MAX_ITEMS",
    "MAX_PAUSE_S",
    "MAX_PAYLOAD_BYTES",
    "MAX_SKEW_S",
    "PROTOCOL_VERSION",
    "RSSI_MAX_DBM",
    "RSSI_MIN_DBM",
    "Alert",
    "Contact",
    "ContactBatch",
    "ContactColumns",
    "DecodeError",
    "Decoded",
    "FieldTypeError",
    "FieldValueError",
    "Frame",
    "FrameBadge",
    "FrameCluster",
    "ParsedTopic",
    "Parser",
    "Pause",
    "Position",
    "PositionBatch",
    "Reading",
    "ReadingBatch",
    "ReadingColumns",
    "RecordedMessage",
    "RecordingError",
    "RecordingWriter",
    "Suggestion",
    "Topics",
    "WireError",
    "__version__",
    "alert_from_dict",
    "alert_to_dict",
    "decode_contact_columns",
    "decode_contacts",
    "decode_inbound",
    "decode_pause",
    "decode_positions",
    "decode_reading_columns",
    "decode_readings",
    "dumps",
    "encode_alert",
    "encode_contacts",
    "encode_frame",
    "encode_pause",
    "encode_positions",
    "encode_readings",
    "frame_from_dict",
    "frame_to_dict",
    "loads",
    "open_text",
    "parse_topic",
    "read_recording",
    "valid_id",
]
