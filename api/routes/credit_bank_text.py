"""Words of the learner's credit page, in Chinese and English."""

from __future__ import annotations

from typing import Any

__all__ = ["CREDITS_TEXT"]

CREDITS_TEXT: dict[str, dict[str, Any]] = {
    "zh": {
        "title": "我的学分银行账户",
        "balances": "各学分单位余额",
        "unit": "单位",
        "available": "可用",
        "used": "已转换",
        "withdrawn": "已撤回",
        "deposits": "存入记录",
        "achievement": "课程",
        "credits": "学分",
        "issued": "获得日期",
        "status": "状态",
        "transfers": "学分转换",
        "school": "学校",
        "rule_set": "转换规则",
        "total": "获认学分",
        "date": "日期",
        "none": "暂无记录。",
        "states": {"available": "可用", "used": "已转换", "withdrawn": "已撤回"},
    },
    "en": {
        "title": "My credit bank account",
        "balances": "Balance per credit unit",
        "unit": "Unit",
        "available": "Available",
        "used": "Transferred",
        "withdrawn": "Withdrawn",
        "deposits": "Deposits",
        "achievement": "Course",
        "credits": "Credits",
        "issued": "Earned on",
        "status": "Status",
        "transfers": "Credit transfers",
        "school": "School",
        "rule_set": "Rules",
        "total": "Credits granted",
        "date": "Date",
        "none": "Nothing yet.",
        "states": {
            "available": "Available",
            "used": "Transferred",
            "withdrawn": "Withdrawn",
        },
    },
}
