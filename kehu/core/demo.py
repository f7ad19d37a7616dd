"""The demo company, built through the services so it is audited like real work.

Each app registers a loader; ``kehu demo`` runs them in order. Every loader is
idempotent: running the demo twice leaves the same company.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Loader = Callable[["DemoContext"], None]
_loaders: list[tuple[int, str, Loader]] = []


@dataclass
class DemoContext:
    size: int
    rng: random.Random
    password: str
    logins: list[tuple[str, str]] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    say: Callable[[str], None] = print


def register(order: int, name: str) -> Callable[[Loader], Loader]:
    def decorator(func: Loader) -> Loader:
        _loaders.append((order, name, func))
        return func

    return decorator


def discover() -> None:
    """Import every app's demo module (kehu/<app>/demo.py): importing registers it."""
    import importlib
    import importlib.util

    from django.apps import apps

    for config in apps.get_app_configs():
        if config.name.startswith("kehu.") and importlib.util.find_spec(f"{config.name}.demo"):
            importlib.import_module(f"{config.name}.demo")


def run(ctx: DemoContext) -> None:
    for _order, name, loader in sorted(_loaders, key=lambda item: item[:2]):
        ctx.say(f"demo: {name}")
        loader(ctx)


SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡"
    "余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯"
    "龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = (
    "伟 芳 娜 秀英 敏 静 丽 强 磊 军 洋 勇 艳 杰 娟 涛 "
    "明 超 秀兰 霞 平 刚 桂英 建华 文 华 红 建国 志强 晓东 海燕 雪梅 "
    "国庆 俊杰 子涵 欣怡 浩然 宇轩 梓萱 一诺 思远 嘉怡 婷 鹏 亮 晨 辉 玲 "
    "斌 宁 琳 帆 昊 颖 倩 楠 凯 健 雯 佳 睿 阳 博 航 "
    "瑶 蕾 晶"
).split()
MOBILE_PREFIXES = (
    "130 131 132 133 135 136 137 138 139 150 151 152 153 155 156 "
    "157 158 159 166 177 180 181 182 183 185 186 187 188 189 199"
).split()


def chinese_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def mobile(rng: random.Random) -> str:
    return rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"
