"""Words of the review screens, in Chinese and English, and their keys' footer names."""

from __future__ import annotations

from pos_tui.domain.review_filter import APPROVED, HAS_ISSUES, REJECTED, UNREVIEWED
from pos_tui.ui.i18n import BINDING_TEXT, Text

# The footer translates bindings by id; i18n.py owns the table, review adds its own keys.
BINDING_TEXT.update(
    {
        "review.open": Text("打开", "Open"),
        "review.filter": Text("筛选", "Filter"),
        "review.sort": Text("排序", "Sort"),
        "review.reverse": Text("倒序", "Reverse"),
        "review.stats": Text("统计", "Statistics"),
        "review.clear": Text("清除", "Clear"),
        "review.reload": Text("重新读取", "Reload"),
        "review.back": Text("返回", "Back"),
        "review.approve": Text("批准", "Approve"),
        "review.issues": Text("有问题", "Has issues"),
        "review.reject": Text("驳回", "Reject"),
        "review.save": Text("保存", "Save"),
        "review.cancel": Text("取消", "Cancel"),
    }
)

REVIEW_STATE_NAMES: dict[str, Text] = {
    UNREVIEWED: Text("未审核", "Unreviewed"),
    APPROVED: Text("已批准", "Approved"),
    HAS_ISSUES: Text("有问题", "Has issues"),
    REJECTED: Text("已驳回", "Rejected"),
}

DECISION_TITLES: dict[str, Text] = {
    APPROVED: Text("批准此访问", "Approve this visit"),
    HAS_ISSUES: Text("有问题：退回技术员", "Has issues: back to the technician"),
    REJECTED: Text("驳回此访问", "Reject this visit"),
}

LIST_TITLE = Text("审核：已同步的访问", "Review: synced visits")
SUB_TITLE = Text("审核人：{who} | {folder}", "Reviewer: {who} | {folder}")
LOADING = Text("正在读取共享库...", "Reading the shared store...")
SEARCH = Text("搜索：商户、号码、技术员", "Search merchant, no., technician")
ANY_STATE = Text("审核状态：全部", "Review: any")
ANY_VERDICT = Text("结论：全部", "Verdict: any")
ANY_TECHNICIAN = Text("技术员：全部", "Technician: any")
ANY_PHOTOS = Text("照片：全部", "Photos: any")
PHOTO_FILTER_NAMES = {
    "any": Text("任何照片警告", "Any photo warning"),
    "reused": Text("重复使用的照片", "Reused photo"),
    "outside_time": Text("拍摄时间不符", "Taken outside time"),
    "far_away": Text("拍摄地点过远", "Taken far away"),
    "no_exif": Text("照片无 EXIF", "No EXIF"),
}
"""The filter bar's words for `review_filter.EVIDENCE_FILTERS` (a test checks each has one)."""
DATE_FROM = Text("起 YYYY-MM-DD", "From YYYY-MM-DD")
DATE_TO = Text("止 YYYY-MM-DD", "To YYYY-MM-DD")
BAD_DATE = Text("日期须为 YYYY-MM-DD", "Dates are YYYY-MM-DD")
COUNT = Text("{shown} / {total} 条访问", "{shown} of {total} visits")
ATTENTION_COUNT = Text("{n} 条未审核且有不通过项", "{n} unreviewed with failures")
SORTED_BY = Text("排序：{column}", "sort: {column}")
ATTENTION_ORDER = Text("待处理优先", "attention first")
DESCENDING = Text("（降序）", " (descending)")
MORE = Text(
    "已显示前 {shown} 条，共 {count} 条：向下移动显示更多，或缩小筛选。",
    "First {shown} of {count} shown: move down for more, or refine the filter.",
)
NO_MATCH = Text("没有符合筛选条件的访问。按 C 清除筛选。", "No visit matches. Press C to clear.")
CONFLICT = Text("冲突", "conflict")
COLUMNS: tuple[tuple[str, Text], ...] = (
    ("date", Text("日期", "Date")),
    ("merchant", Text("商户", "Merchant")),
    ("terminal", Text("终端号", "Terminal")),
    ("technician", Text("技术员", "Technician")),
    ("verdict", Text("结论", "Verdict")),
    ("failures", Text("不通过", "Fails")),
    ("review", Text("审核", "Review")),
    ("merchant_number", Text("商户号", "Merchant no.")),
)
"""Most needed first: at 80 columns the merchant number is the one off to the right."""

SHORT_VERDICTS: dict[str, Text] = {
    "pass": Text("通过", "Pass"),
    "pass_with_remarks": Text("有备注", "Remarks"),
    "fail": Text("不通过", "Fail"),
    "incomplete": Text("未完成", "Incomplete"),
}
"""The list's narrow verdict column; the detail uses the full names."""

REPORT_WRITTEN = Text("验收报告已保存：{path}", "Acceptance report written to {path}")
