"""Messages the web code translates from a variable, which extraction cannot see at the call site.

web/errors.py keeps its page titles in the dict TITLES and translates them at run time
(`_(TITLES.get(status, '出错了'))`), so `pybabel extract` never sees the literals. Listing them here with
the no-op marker N_ puts them into messages.pot, so they get an English translation like every other
message. This module is only read by the extractor (babel.cfg: python web/**.py); nothing imports it.
tests/test_web_i18n.py checks that every value of web.errors.TITLES is translated, so an entry missing here
fails the suite. Drop an entry once its source marks the literal itself (e.g. with lazy_gettext or N_).
"""


def N_(message):
    return message


DYNAMIC_MESSAGES = (
    # web/errors.py: TITLES and the fallback title
    N_('请求有误'),
    N_('请先登录'),
    N_('无权访问'),
    N_('页面不存在'),
    N_('不支持的操作'),
    N_('操作未完成'),
    N_('上传内容过大'),
    N_('输入有误'),
    N_('操作过于频繁'),
    N_('系统出错了'),
    N_('出错了'),
    # web/errors.py: DEFAULT_REASONS, the message of a refusal raised without one
    N_('请求的格式有误，请返回上一页刷新后重试。'),
    N_('您没有权限进行此操作。'),
)
