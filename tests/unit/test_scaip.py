"""SCAIP alarms: the mrq parser and the mrs, the bit of SIP around them, the alarm book and
the receiver's answers (without a socket). Good and bad inputs side by side, as data."""

from __future__ import annotations

import logging

import pytest

from hotline.alarms.book import AlarmBook
from hotline.alarms.receiver import AlarmReceiver
from hotline.alarms.scaip import (
    CONTENT_TYPE,
    MAX_BODY,
    Alarm,
    BadAlarm,
    Snu,
    build_mrs,
    classify,
    parse_mrq,
)
from hotline.alarms.sip import BadSip, build_response, parse_request

ELDER = "13800000001"
KITCHEN = "厨房"

# ----------------------------------------------------------------------------- the mrq


def mrq(*elements: str) -> bytes:
    return ("<mrq>" + "".join(elements) + "</mrq>").encode()


REQUIRED = ("<ref>A1</ref>", "<cid>26317</cid>", "<dty>0005</dty>")

GOOD = [
    (  # a fall, with everything
        mrq(
            "<ref>0000188A</ref><ver>01.00</ver><mty>ME</mty><cid>26317</cid><dty>0005</dty>",
            f"<did>00</did><crd>gsm:+86{ELDER}</crd><stc>0009</stc><pri>1</pri>",
            f"<lco>021</lco><lte>{KITCHEN}</lte>",
            "<lge><geo>39.9042,116.4074</geo><tim>2026-01-01T08:00:00+08:00</tim></lge>",
        ),
        {
            "ref": "0000188A",
            "kind": "alarm",
            "controller_id": "26317",
            "caller_id": ELDER,
            "device_type": 5,
            "device_id": "00",
            "status_code": 9,
            "alarm_type": "fall",
            "priority": 1,
            "location_code": 21,
            "location_text": KITCHEN,
            "latitude": 39.9042,
            "longitude": 116.4074,
        },
    ),
    (  # the fewest elements: no stc means unknown (0), the device type says it is a button
        mrq("<ref>A1</ref><cid>26317</cid><dty>3</dty>"),
        {"status_code": 0, "alarm_type": "button", "caller_id": "26317", "kind": "alarm"},
    ),
    (  # the number from a sip: caller reference, and the controller id is not used
        mrq(*REQUIRED, f"<crd>no-voice:</crd><crd>sip:{ELDER}@10.0.0.1;user=phone</crd>"),
        {"caller_id": ELDER, "controller_id": "26317"},
    ),
    (  # a terminal that uses its SIM number as controller id and sends no crd
        mrq("<ref>A1</ref>", f"<cid>{ELDER}</cid>", "<dty>0003</dty><stc>0010</stc>"),
        {"caller_id": ELDER, "alarm_type": "button"},
    ),
    (  # a heartbeat
        mrq(*REQUIRED, "<mty>PI</mty><stc>0102</stc>"),
        {"kind": "heartbeat", "alarm_type": "technical"},
    ),
    (  # a well-formed status code the standard does not know: kept, as "other"
        mrq(*REQUIRED, "<stc>0999</stc>"),
        {"status_code": 999, "alarm_type": "other"},
    ),
    (  # geo position as the text of <lge>, southern and western, with a namespace and XML
        # declaration; unknown elements ignored
        b'<?xml version="1.0" encoding="UTF-8"?><mrq xmlns="urn:example:scaip">'
        b"<ref>A1</ref><cid>26317</cid><dty>5</dty><lge>-33.8688, -151.2093</lge>"
        b"<vendor><x>1</x></vendor></mrq>",
        {"latitude": -33.8688, "longitude": -151.2093},
    ),
]

BAD = [
    (b"", Snu.INVALID_FORMAT, None),
    (b"hello, this is not XML", Snu.INVALID_FORMAT, None),
    (b"<mrq><ref>A1</ref>", Snu.INVALID_FORMAT, None),
    (b"<mrs><ref>A1</ref><snu>0</snu></mrs>", Snu.INVALID_FORMAT, None),  # not an mrq
    (b"\xff\xfe<\x00m\x00", Snu.INVALID_FORMAT, None),  # UTF-16
    (
        b'<!DOCTYPE mrq [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        b"<mrq><ref>A1</ref><cid>1</cid><dty>1</dty><lte>&b;</lte></mrq>",
        Snu.INVALID_FORMAT,
        None,
    ),
    (b'<!doctype mrq SYSTEM "file:///etc/passwd"><mrq/>', Snu.INVALID_FORMAT, None),
    (mrq("<ref>A1</ref><cid>1</cid><dty>1</dty>", " " * MAX_BODY), Snu.MESSAGE_TOO_LONG, None),
    (mrq("<cid>26317</cid><dty>5</dty>"), Snu.MANDATORY_TAG_MISSING, None),  # no ref
    (mrq("<ref></ref><cid>26317</cid><dty>5</dty>"), Snu.MANDATORY_TAG_MISSING, None),
    (mrq("<ref>A 1</ref><cid>26317</cid><dty>5</dty>"), Snu.WRONG_DATA_CONTENT, None),
    (mrq("<ref>A1</ref><dty>5</dty>"), Snu.MANDATORY_TAG_MISSING, "A1"),  # no cid
    (mrq("<ref>A1</ref><cid>26317</cid>"), Snu.MANDATORY_TAG_MISSING, "A1"),  # no dty
    (mrq(*REQUIRED, "<stc>fall</stc>"), Snu.WRONG_DATA_CONTENT, "A1"),
    (mrq(*REQUIRED, "<stc>12345</stc>"), Snu.WRONG_DATA_CONTENT, "A1"),  # beyond 4 digits
    (mrq(*REQUIRED, "<stc>9</stc><stc>10</stc>"), Snu.WRONG_DATA_CONTENT, "A1"),
    (mrq("<ref>A1</ref><cid>abc</cid><dty>5</dty>"), Snu.WRONG_DATA_CONTENT, "A1"),
    (mrq("<ref>A1</ref><cid>1</cid><dty>00005</dty>"), Snu.WRONG_DATA_CONTENT, "A1"),
    (mrq(*REQUIRED, "<mty>XX</mty>"), Snu.WRONG_DATA_CONTENT, "A1"),
    (mrq(*REQUIRED, "<pri>10</pri>"), Snu.WRONG_DATA_CONTENT, "A1"),
    (mrq(*REQUIRED, "<lco>kitchen</lco>"), Snu.WRONG_DATA_CONTENT, "A1"),
    (mrq(*REQUIRED, "<lte>", "x" * 129, "</lte>"), Snu.WRONG_DATA_CONTENT, "A1"),
    (mrq(*REQUIRED, "<crd>gsm:", "1" * 300, "</crd>"), Snu.WRONG_DATA_CONTENT, "A1"),
    (mrq(*REQUIRED, "<lte><b>x</b></lte>"), Snu.WRONG_DATA_CONTENT, "A1"),
    (mrq(*REQUIRED, "<lge><geo>91.0,116.4</geo></lge>"), Snu.WRONG_DATA_CONTENT, "A1"),
    (mrq(*REQUIRED, "<lge><geo>39.9,180.5</geo></lge>"), Snu.WRONG_DATA_CONTENT, "A1"),
    (mrq(*REQUIRED, "<lge><geo>39.9</geo></lge>"), Snu.WRONG_DATA_CONTENT, "A1"),
    (mrq(*REQUIRED, "<lge><geo>north,east</geo></lge>"), Snu.WRONG_DATA_CONTENT, "A1"),
]


@pytest.mark.parametrize(("body", "expected"), GOOD)
def test_good_mrq(body: bytes, expected: dict[str, object]) -> None:
    alarm = parse_mrq(body)
    assert {name: getattr(alarm, name) for name in expected} == expected


@pytest.mark.parametrize(("body", "snu", "ref"), BAD)
def test_bad_mrq(body: bytes, snu: Snu, ref: str | None) -> None:
    with pytest.raises(BadAlarm) as caught:
        parse_mrq(body)
    assert (caught.value.status, caught.value.ref) == (snu, ref)
    assert ELDER not in caught.value.reason and KITCHEN not in caught.value.reason


def test_repr_leaves_out_who_and_where() -> None:
    text = repr(parse_mrq(GOOD[0][0]))
    assert "0000188A" in text and "fall" in text
    assert ELDER not in text and KITCHEN not in text and "39.9" not in text


@pytest.mark.parametrize(
    ("device_type", "status_code", "word"),
    [
        (5, 9, "fall"),  # fall detector, automatic alarm
        (30, 0, "fall"),  # man-down detector, unknown status
        (23, 9, "smoke"),
        (25, 11, "smoke"),  # heat detector, alert
        (26, 9, "gas"),
        (10, 9, "inactivity"),  # activity detector
        (2, 104, "inactivity"),  # the unit's own inactivity timer ran out
        (3, 10, "button"),  # personal trigger, manual alarm
        (45, 10, "button"),  # any device, manual alarm
        (5, 110, "button"),  # assistance
        (3, 16, "technical"),  # battery low
        (2, 102, "technical"),  # test transmission
        (3, 19, "cancel"),
        (2, 93, "cancel"),  # manual reset
        (14, 77, "other"),  # door open too long
        (45, 9, "other"),  # an automatic alarm from a controller: we cannot say what
    ],
)
def test_classify(device_type: int, status_code: int, word: str) -> None:
    assert classify(device_type, status_code) == word


@pytest.mark.parametrize(
    ("ref", "snu", "text", "expected"),
    [
        ("A1", Snu.OK, None, b"<mrs><ref>A1</ref><snu>0</snu></mrs>"),
        (
            None,
            Snu.INVALID_FORMAT,
            "not XML",
            b"<mrs><ref></ref><snu>2</snu><ste>not XML</ste></mrs>",
        ),
        ("a<b", 3, None, b"<mrs><ref>a&lt;b</ref><snu>3</snu></mrs>"),
    ],
)
def test_mrs(ref: str | None, snu: int, text: str | None, expected: bytes) -> None:
    assert build_mrs(ref, snu, text=text) == expected


# ----------------------------------------------------------------------------- SIP

MESSAGE = (
    "MESSAGE sip:alarm@127.0.0.1:5070 SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 127.0.0.3:5099;branch=z9hG4bK-1;rport\r\n"
    "Via: SIP/2.0/UDP 10.0.0.9:5060;branch=z9hG4bK-0\r\n"
    "From: <sip:terminal@127.0.0.3>;tag=abc\r\n"
    "To: <sip:alarm@127.0.0.1>\r\n"
    "Call-ID: c1@127.0.0.3\r\n"
    "CSeq: 7 MESSAGE\r\n"
    f"Content-Type: {CONTENT_TYPE}\r\n"
    "Content-Length: {length}\r\n"
    "\r\n"
)
COMPACT = (
    "MESSAGE sip:alarm@127.0.0.1 SIP/2.0\r\n"
    "v: SIP/2.0/UDP 127.0.0.3:5099;branch=z9hG4bK-2\r\n"
    "f: <sip:terminal@127.0.0.3>;tag=abc\r\n"
    "t: <sip:alarm@127.0.0.1>;tag=ours\r\n"
    "i: c2\r\n"
    "CSEQ: 8 MESSAGE\r\n"
    "c: Application/SCAIP+XML; charset=utf-8\r\n"
    "l: {length}\r\n"
    "\r\n"
)
BODY = mrq(*REQUIRED)


def request(template: str = MESSAGE, body: bytes = BODY, length: int | None = None) -> bytes:
    return template.format(length=len(body) if length is None else length).encode() + body


def test_parse_message() -> None:
    parsed = parse_request(request() + b"\r\n")  # bytes past Content-Length are not body
    assert (parsed.method, parsed.uri, parsed.body) == (
        "MESSAGE",
        "sip:alarm@127.0.0.1:5070",
        BODY,
    )
    assert parsed.content_type == CONTENT_TYPE
    assert len(parsed.all("VIA")) == 2
    assert parsed.header("call-id") == "c1@127.0.0.3"


def test_parse_compact_forms() -> None:
    parsed = parse_request(request(COMPACT))
    assert parsed.header("Via") == "SIP/2.0/UDP 127.0.0.3:5099;branch=z9hG4bK-2"
    assert parsed.header("from") == "<sip:terminal@127.0.0.3>;tag=abc"
    assert parsed.header("t") == "<sip:alarm@127.0.0.1>;tag=ours"
    assert parsed.header("Call-ID") == "c2"
    assert parsed.content_type == CONTENT_TYPE
    assert parsed.body == BODY


def test_parse_folded_header_and_no_content_length() -> None:
    text = request().decode().replace(f"Content-Length: {len(BODY)}\r\n", "")
    text = text.replace("To: <sip:alarm@127.0.0.1>\r\n", "To:\r\n <sip:alarm@127.0.0.1>\r\n")
    parsed = parse_request(text.encode())
    assert parsed.header("to") == "<sip:alarm@127.0.0.1>"
    assert parsed.body == BODY  # to the end of the datagram


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x00\x01\x02garbage",
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 1.2.3.4\r\n\r\n",  # a response
        request(length=len(BODY) + 10),  # body shorter than Content-Length
        request(length=-1),
        request().replace(b"Call-ID: c1@127.0.0.3\r\n", b""),
        request().replace(b"CSeq: 7 MESSAGE", b"CSeq: 7 INVITE"),
        request().replace(b"CSeq: 7 MESSAGE", b"CSeq: seven MESSAGE"),
        request().replace(b"To: <sip", b"To <sip"),  # no colon
        request().replace(b"sip:alarm@", b"\xff\xfe"),
        request().replace(b"From:", b"X-A: 1\r\n" * 101 + b"From:"),
    ],
)
def test_parse_refuses(data: bytes) -> None:
    with pytest.raises(BadSip):
        parse_request(data)


def test_response_copies_and_tags() -> None:
    parsed = parse_request(request())
    raw = build_response(
        parsed,
        200,
        "OK",
        body=b"<mrs/>",
        content_type=CONTENT_TYPE,
        source=("127.0.0.3", 40000),
    )
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    assert lines[0] == "SIP/2.0 200 OK"
    assert lines[1] == (
        "Via: SIP/2.0/UDP 127.0.0.3:5099;branch=z9hG4bK-1;rport=40000;received=127.0.0.3"
    )
    assert lines[2] == "Via: SIP/2.0/UDP 10.0.0.9:5060;branch=z9hG4bK-0"
    assert lines[3] == "From: <sip:terminal@127.0.0.3>;tag=abc"
    assert lines[4].startswith("To: <sip:alarm@127.0.0.1>;tag=")
    assert lines[5:] == [
        "Call-ID: c1@127.0.0.3",
        "CSeq: 7 MESSAGE",
        f"Content-Type: {CONTENT_TYPE}",
        "Content-Length: 6",
    ]
    assert body == b"<mrs/>"
    assert build_response(parsed, 200, "OK").split(b"\r\n")[4] == lines[4].encode()  # same tag


def test_response_keeps_a_to_tag() -> None:
    raw = build_response(parse_request(request(COMPACT)), 405, "Method Not Allowed")
    assert b"\r\nTo: <sip:alarm@127.0.0.1>;tag=ours\r\n" in raw


# ----------------------------------------------------------------------------- the book


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def alarm(ref: str, number: str | None = ELDER) -> Alarm:
    crd = f"<crd>tel:{number}</crd>" if number else ""
    return parse_mrq(mrq(f"<ref>{ref}</ref><cid>1</cid><dty>5</dty>", crd))


def test_book_takes_the_latest_once() -> None:
    book = AlarmBook(clock=Clock())
    book.add(alarm("first"))
    book.add(alarm("second"))
    book.add(alarm("other", "13900000011"))
    taken = book.take("+86 138-0000-0001")  # any form of the number
    assert taken is not None and taken.ref == "second"
    assert book.take(ELDER) is None
    assert len(book) == 1


def test_book_window() -> None:
    clock = Clock()
    book = AlarmBook(window_s=120, clock=clock)
    book.add(alarm("old"))
    clock.now += 60
    book.add(alarm("young", "13900000011"))
    clock.now += 61  # "old" is 121 s old, "young" 61 s
    assert book.take(ELDER) is None
    taken = book.take("13900000011")
    assert taken is not None and taken.ref == "young"


def test_book_is_bounded_and_ignores_no_number() -> None:
    book = AlarmBook(clock=Clock(), limit=3)
    book.add(alarm("none", None))
    for n in range(5):
        book.add(alarm(f"r{n}", f"1390000000{n}"))
    assert len(book) == 3
    assert book.take("13900000000") is None  # the oldest went first
    assert book.take("13900000004") is not None
    assert book.take(None) is None and book.take("anonymous") is None


# ----------------------------------------------------------------------------- answers

SOURCE = ("127.0.0.3", 5099)


def status_of(reply: bytes | None) -> int:
    assert reply is not None
    return int(reply.split(b" ", 2)[1])


def test_answers_an_alarm_with_mrs() -> None:
    answer = AlarmReceiver(lambda a, s: None).answer(request(), SOURCE)
    assert answer.reply is not None and status_of(answer.reply) == 200
    assert answer.reply.endswith(b"\r\n\r\n<mrs><ref>A1</ref><snu>0</snu></mrs>")
    assert f"Content-Type: {CONTENT_TYPE}".encode() in answer.reply
    assert answer.alarm is not None and answer.alarm.alarm_type == "fall"


def test_answers_a_bad_alarm_in_the_mrs(caplog: pytest.LogCaptureFixture) -> None:
    body = mrq(*REQUIRED, f"<crd>gsm:{ELDER}</crd><lte>{KITCHEN}</lte><lge>95.5,200.25</lge>")
    with caplog.at_level(logging.DEBUG):
        answer = AlarmReceiver(lambda a, s: None).answer(request(body=body), SOURCE)
    assert answer.alarm is None and answer.reply is not None and status_of(answer.reply) == 200
    assert b"<mrs><ref>A1</ref><snu>3</snu>" in answer.reply
    assert "snu=3" in caplog.text and "127.0.0.3" in caplog.text
    assert ELDER not in caplog.text and KITCHEN not in caplog.text and "95.5" not in caplog.text


@pytest.mark.parametrize(
    ("data", "allowed", "status", "header"),
    [
        (request().replace(CONTENT_TYPE.encode(), b"text/plain"), None, 415, b"Accept: "),
        (request().replace(b"MESSAGE", b"INFO"), None, 405, b"Allow: MESSAGE, OPTIONS"),
        (request().replace(b"MESSAGE", b"OPTIONS"), None, 200, b"Allow: MESSAGE, OPTIONS"),
        (request(), {"127.0.0.9"}, 403, b"Content-Length: 0"),
        (request(), {"127.0.0.3"}, 200, b"<snu>0</snu>"),
    ],
)
def test_other_answers(data: bytes, allowed: set[str] | None, status: int, header: bytes) -> None:
    answer = AlarmReceiver(lambda a, s: None, allowed=allowed).answer(data, SOURCE)
    assert status_of(answer.reply) == status and header in (answer.reply or b"")
    assert (answer.alarm is not None) == (status == 200 and b"snu" in header)


@pytest.mark.parametrize(
    "data",
    [
        b"\r\n\r\n",
        b"garbage",
        request().replace(b"MESSAGE sip", b"ACK sip").replace(b"7 MESSAGE", b"7 ACK"),
    ],
)
def test_no_answer(data: bytes) -> None:
    assert AlarmReceiver(lambda a, s: None).answer(data, SOURCE).reply is None


def test_heartbeat_answered_not_passed_on() -> None:
    body = mrq(*REQUIRED, "<mty>PI</mty>")
    answer = AlarmReceiver(lambda a, s: None).answer(request(body=body), SOURCE)
    assert b"<snu>0</snu>" in (answer.reply or b"") and answer.alarm is None


def test_retransmission_same_answer_once() -> None:
    clock = Clock()
    receiver = AlarmReceiver(lambda a, s: None, clock=clock)
    first = receiver.answer(request(), SOURCE)
    again = receiver.answer(request(), SOURCE)
    assert again.reply == first.reply and first.alarm is not None and again.alarm is None
    clock.now += 33  # the transaction is over: a new request, passed on again
    assert receiver.answer(request(), SOURCE).alarm is not None


# ---------------------------------------------------------------- floods (issue 15, R27)


def test_a_source_over_its_rate_is_dropped_and_others_still_answered(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    receiver = AlarmReceiver(lambda a, s: None, rate=5, burst=10, clock=clock)

    def options(source: tuple[str, int], _i: int) -> bytes | None:
        return receiver.answer(request().replace(b"MESSAGE", b"OPTIONS"), source).reply

    flood = ("127.0.0.66", 5099)
    with caplog.at_level(logging.WARNING):
        answered = [options(flood, i) for i in range(50)]
    assert sum(r is not None for r in answered) == 10  # the burst, then nothing
    assert answered[-1] is None
    assert options(SOURCE, 99) is not None  # another source is not held back
    assert caplog.text.count("over 5/s") == 1  # warned once, not once a datagram
    clock.now += 1.0  # a second later: rate x 1 s datagrams again
    assert sum(options(flood, 100 + i) is not None for i in range(10)) == 5
    assert "40 datagram(s) over its rate dropped" in caplog.text  # told when it passes


def test_a_flood_from_one_source_never_pushes_out_anothers_pending_alarm() -> None:
    book = AlarmBook(clock=Clock(), limit=100)
    book.add(alarm("genuine", ELDER), "127.0.0.3")
    for n in range(1000):  # made-up refs and numbers from one address
        book.add(alarm(f"f{n}", f"139{n:08d}"), "127.0.0.66")
    assert len(book) == 100 and book.held_by("127.0.0.66") == 99
    taken = book.take(ELDER)
    assert taken is not None and taken.ref == "genuine"
    assert book.take("13900000999") is not None  # the flood's newest stayed, its oldest went
    assert book.take("13900000000") is None
