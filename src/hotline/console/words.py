# ruff: noqa: RUF001  (Chinese text uses full-width punctuation on purpose)
"""What the console says, in Chinese (the default) and English. Keys are English phrases'
short names; a missing key shows itself, so a forgotten translation is seen, not hidden."""

from __future__ import annotations

from typing import Literal

Lang = Literal["zh", "en"]
LANGS: tuple[Lang, ...] = ("zh", "en")

_WORDS: dict[str, tuple[str, str]] = {
    "title": ("养老服务热线 · 坐席台", "Elderly-care hotline · console"),
    "floor_title": ("养老服务热线 · 班长台", "Elderly-care hotline · supervisor"),
    "login": ("登录", "Log in"),
    "logout": ("退出", "Log out"),
    "username": ("用户名", "Username"),
    "password": ("密码", "Password"),
    "login_failed": ("用户名或密码不正确", "Wrong username or password"),
    "session_expired": ("登录已过期，请重新登录", "Your session has expired; log in again"),
    "language": ("English", "中文"),
    "state": ("状态", "State"),
    "ready": ("就绪", "Ready"),
    "pause": ("小休", "Pause"),
    "wrap_up": ("话后整理", "Wrap-up"),
    "logged_out": ("离席", "Logged out"),
    "paused": ("小休", "Paused"),
    "offered": ("振铃中", "Ringing"),
    "on_call": ("通话中", "On a call"),
    "pause_reason": ("小休原因", "Pause reason"),
    "reason_break": ("休息", "Break"),
    "reason_training": ("培训", "Training"),
    "reason_meeting": ("会议", "Meeting"),
    "reason_admin": ("事务", "Paperwork"),
    "incoming": ("来电", "Incoming call"),
    "no_call": ("暂无来电", "No call"),
    "line": ("线路", "Line"),
    "waited": ("等待", "Waited"),
    "seconds": ("秒", "s"),
    "caller": ("来电号码", "Caller"),
    "caller_kind": ("来电身份", "Caller is"),
    "kind_terminal": ("一键呼叫终端", "One-key terminal"),
    "kind_elder": ("老人本人", "The elder"),
    "kind_contact": ("家属/联系人", "A contact"),
    "kind_unknown": ("未登记来电", "Unknown caller"),
    "kind_anonymous": ("隐藏号码", "Number withheld"),
    "kind_unverified": ("未核实（档案库不可用）", "Unverified (directory unavailable)"),
    "candidates": ("可能的老人（共用号码）", "Possible elders (shared number)"),
    "elder": ("老人档案", "Elder's record"),
    "name": ("姓名", "Name"),
    "age": ("年龄", "Age"),
    "birth_date": ("出生日期", "Born"),
    "address": ("地址", "Address"),
    "district": ("街道/区", "District"),
    "health_conditions": ("健康状况", "Health"),
    "medical_history": ("病史", "Medical history"),
    "medication": ("用药", "Medication"),
    "living_situation": ("居住情况", "Living situation"),
    "children": ("子女", "Children"),
    "life_events": ("重大事件", "Life events"),
    "high_risk": ("高风险", "High risk"),
    "contacts": ("联系人（按层级）", "Contacts by tier"),
    "tier": ("层级", "Tier"),
    "relation": ("关系", "Relation"),
    "phone": ("电话", "Phone"),
    "guardian": ("监护人", "Guardian"),
    "open_cases": ("未结工单", "Open cases"),
    "owned_by_you": ("您负责的工单", "Your case"),
    "last_calls": ("最近来电", "Last calls"),
    "alarm": ("终端报警", "Terminal alarm"),
    "location": ("位置", "Location"),
    "quick_create": ("快速建档", "Quick create"),
    "create": ("建档", "Create"),
    "call_controls": ("通话控制", "Call"),
    "hold": ("保持", "Hold"),
    "resume": ("恢复", "Resume"),
    "hang_up": ("挂断", "Hang up"),
    "survey": ("转满意度评价", "Satisfaction survey"),
    "transfer": ("转接", "Transfer"),
    "transfer_to": (
        "转接到（队列名、坐席编号或电话号码）",
        "Transfer to (queue, operator id or number)",
    ),
    "confirm_emergency": ("确认紧急呼叫", "Confirm emergency"),
    "case": ("工单", "Case"),
    "case_no": ("工单号", "Case no."),
    "class": ("类别", "Class"),
    "status": ("状态", "Status"),
    "owner": ("负责人", "Owner"),
    "reasonable": ("诉求合理", "Reasonable"),
    "unreasonable": ("诉求不合理", "Not reasonable"),
    "unreasonable_reason": ("不合理原因", "Why not reasonable"),
    "save": ("保存", "Save"),
    "note": ("备注", "Note"),
    "add_note": ("添加备注", "Add note"),
    "close_case": ("结单", "Close case"),
    "close_reason": ("结单原因", "Closing reason"),
    "answer_close": ("已解答并结单", "Answered, close"),
    "callback": ("安排回电", "Schedule callback"),
    "callback_due": ("回电期限", "Call back by"),
    "extend": ("延期（须告知来电人）", "Extend (caller told)"),
    "caller_told": ("已告知来电人", "Caller told"),
    "working_days": ("工作日", "working days"),
    "service_order": ("派工单", "Service order"),
    "provider": ("服务商", "Provider"),
    "service": ("服务项目", "Service"),
    "referral": ("转介", "Referral"),
    "offer_institutions": ("推荐机构", "Offer institutions"),
    "choose": ("选定", "Choose"),
    "complaint": ("投诉转办", "Hand complaint"),
    "department": ("责任部门", "Department"),
    "deadline": ("办理期限", "Deadline"),
    "reply_deadline": ("答复来电人期限", "Reply to caller by"),
    "timeline": ("处理记录", "Timeline"),
    "my_cases": ("我的工单", "My cases"),
    "tasks_due": ("待办期限", "Deadlines"),
    "elders": ("老人档案", "Elders"),
    "search": ("查询", "Search"),
    "search_hint": ("姓名、电话或档案号", "Name, phone or record no."),
    "open_reason": ("查看原因（将记录）", "Reason to open (recorded)"),
    "open_record": ("查看档案", "Open record"),
    "edit": ("编辑", "Edit"),
    "access_log": ("档案查阅记录", "Record access log"),
    "who": ("查阅人", "Who"),
    "when": ("时间", "When"),
    "why": ("原因", "Why"),
    "floor": ("现场监控", "Live floor"),
    "queues": ("队列", "Queues"),
    "waiting": ("等待", "Waiting"),
    "longest_wait": ("最长等待", "Longest wait"),
    "operators": ("坐席", "Operators"),
    "calls_now": ("进行中的通话", "Calls now"),
    "service_level": ("今日10秒接通率", "Answered within 10 s today"),
    "callbacks_due": ("待回电", "Callbacks due"),
    "listen": ("监听", "Listen"),
    "whisper": ("耳语", "Whisper"),
    "barge": ("强插", "Barge"),
    "phase_arriving": ("接入", "Arriving"),
    "phase_waiting": ("排队", "Waiting"),
    "phase_ringing": ("振铃", "Ringing"),
    "phase_talking": ("通话", "Talking"),
    "phase_emergency": ("紧急会议", "Emergency"),
    "phase_surveying": ("满意度评价", "Survey"),
    "forbidden": ("无权查看", "Not allowed"),
    "not_found": ("未找到", "Not found"),
    "invalid": ("输入有误", "Invalid input"),
    "conflict": ("无法执行", "Cannot do that now"),
    "done": ("已完成", "Done"),
    "none": ("无", "None"),
    "deadline_due_soon": ("期限将到", "Due soon"),
    "deadline_overdue": ("已超期", "Overdue"),
    "overdue_deadlines": ("超期未办", "Overdue deadlines"),
}

CLASS_NAMES: dict[str, tuple[str, str]] = {  # R6, with the consultation sub-classes
    "emergency": ("紧急救助", "Emergency"),
    "consultation_service": ("服务咨询", "Consultation: services"),
    "consultation_affairs": ("事务咨询", "Consultation: public affairs"),
    "consultation_legal": ("法律咨询", "Consultation: legal"),
    "consultation_other": ("其他咨询", "Consultation: other"),
    "life_help": ("生活帮助", "Life help"),
    "referral": ("转介服务", "Referral"),
    "complaint": ("投诉", "Complaint"),
}
STEP_NAMES: dict[str, tuple[str, str]] = {  # the timeline's steps (others show as named)
    "call_received": ("来电接入", "Call received"),
    "greeted": ("已播放问候语", "Greeted"),
    "queued": ("排队", "Queued"),
    "offered": ("振铃", "Offered"),
    "operator_answered": ("坐席接听", "Operator answered"),
    "caller_hung_up": ("来电人挂断", "Caller hung up"),
    "operator_hung_up": ("坐席挂断", "Operator hung up"),
    "party_hung_up": ("对方挂断", "Party hung up"),
    "caller_held": ("通话保持", "Caller held"),
    "caller_resumed": ("恢复通话", "Caller resumed"),
    "classified": ("分类", "Classified"),
    "note": ("备注", "Note"),
    "closed": ("结单", "Closed"),
    "referred": ("转介", "Referred"),
    "service_ordered": ("派工单", "Service ordered"),
    "complaint_handed": ("投诉转办", "Complaint handed on"),
    "callback_promised": ("承诺回电", "Callback promised"),
    "callback_extended": ("回电延期", "Callback extended"),
    "transferred": ("转接", "Transferred"),
    "elder_recorded": ("新建老人档案", "Elder's record made"),
    "survey_asked": ("转满意度评价", "Handed to the survey"),
    "survey_answered": ("满意度评价结果", "Survey answered"),
    "reopened": ("工单重新打开", "Reopened"),
}
STATUS_NAMES: dict[str, tuple[str, str]] = {
    "open": ("新建", "Open"),
    "in_progress": ("处理中", "In progress"),
    "callback_due": ("待回电", "Callback due"),
    "follow_up": ("待回访", "Follow-up"),
    "closed": ("已结单", "Closed"),
}


def step(kind: str, lang: Lang) -> str:
    """A timeline step's name; a step without a translation shows as it is named."""
    pair = STEP_NAMES.get(kind)
    if pair is None:
        return kind
    return pair[0] if lang == "zh" else pair[1]


def word(key: str, lang: Lang) -> str:
    pair = _WORDS.get(key) or CLASS_NAMES.get(key) or STATUS_NAMES.get(key)
    if pair is None:
        return key
    return pair[0] if lang == "zh" else pair[1]


def lang_of(cookie: str | None, accept: str | None) -> Lang:
    """The cookie's choice; else Chinese unless the browser asks for English first."""
    if cookie in LANGS:
        return "zh" if cookie == "zh" else "en"
    first = (accept or "").split(",")[0].strip().lower()
    return "en" if first.startswith("en") else "zh"
