"""The attach dialog's words, in both languages (kept apart so attach.py holds only the screen)."""

from __future__ import annotations

from pos_tui.domain.evidence import EvidenceRef
from pos_tui.ui.i18n import Text

TITLE = Text("附件：{title}", "Attach to: {title}")
NONE_YET = Text("尚未附任何文件。", "Nothing attached yet.")
PATH = Text(
    "文件路径（可粘贴或拖入多个，Enter 附上）",
    "File path (paste or drop several; Enter attaches)",
)
PATH_PLACEHOLDER = Text("/media/phone/DCIM/IMG_0001.jpg", "/media/phone/DCIM/IMG_0001.jpg")
NO_FOLDER = Text(
    "未设置相机文件夹：按 Ctrl+O 选择一次（手机的相机文件夹或同步文件夹）",
    "No camera folder: Ctrl+O chooses one, once (a phone's camera folder, a synced folder)",
)
LISTING = Text("正在查看 {folder}...", "Looking in {folder}...")
FOLDER_MISSING = Text(
    "找不到相机文件夹 {folder}：按 Ctrl+O 重新选择",
    "The camera folder {folder} is not there: Ctrl+O chooses another",
)
FOLDER_EMPTY = Text(
    "{folder} 中没有本次访问开始后拍摄的照片", "{folder} has no pictures since the visit started"
)
FOLDER_PICTURES = Text(
    "{folder}：本次访问开始后的 {count} 张（新的在前，空格选择，Ctrl+S 附上）",
    "{folder}: {count} since the visit started (newest first; space selects, Ctrl+S attaches)",
)
NOTHING_CHOSEN = Text(
    "请输入文件路径，或在相机文件夹中选择照片",
    "Type a file's path, or choose pictures in the camera folder",
)
# "…" is drawn two cells wide by terminals set up for Chinese: three dots instead.
ATTACHING = Text("正在附上 {count} 个文件...", "Attaching {count} file(s)...")
REMOVING = Text("正在移除 {name}...", "Removing {name}...")
ATTACHED = Text("已附上 {count} 个文件：{names}", "{count} attached: {names}")
ALREADY = Text("这些文件已附在此项上", "Those files are already on this item")
REMOVED = Text("已移除 {name}", "Removed {name}")
READ_ONLY = Text(
    "此访问已签署，附件只能查看。", "This visit is signed: its files can be read, not changed."
)

FOLDER_TITLE = Text("相机文件夹", "Camera folder")
FOLDER_HINT = Text(
    "照片到达的文件夹：通过 USB 连接的手机相机文件夹，或同步文件夹。只记一次。",
    "The folder photos arrive in: a phone's camera folder over USB, or a synced folder. "
    "Chosen once.",
)
FOLDER_KEYS = Text("Enter 保存    Esc 取消", "Enter save    Esc cancel")


def fill(text: Text, **values: object) -> Text:
    """`text` with its blanks filled, in both languages."""
    return Text(text.zh.format(**values), text.en.format(**values))


def attached_text(added: tuple[EvidenceRef, ...]) -> Text:
    """What a batch put on the item: the names, or that they were on it already."""
    if not added:
        return ALREADY
    return Text(
        ATTACHED.zh.format(count=len(added), names="、".join(ref.name for ref in added)),
        ATTACHED.en.format(count=len(added), names=", ".join(ref.name for ref in added)),
    )
