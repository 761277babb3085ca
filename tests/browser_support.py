"""Browser tests: the real app served by werkzeug on 127.0.0.1, driven by Debian's headless Chromium.

No network: Selenium gets the browser and driver paths explicitly (otherwise Selenium Manager goes online),
and the app loads nothing from outside (mermaid is vendored)."""
import base64
import contextlib
import logging
import os
import subprocess
import sys
import threading

from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait
from werkzeug.serving import make_server

CHROMIUM = '/usr/bin/chromium'
CHROMEDRIVER = '/usr/bin/chromedriver'
CHROME_FLAGS = ('--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
                '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic',
                '--disable-dev-shm-usage', '--disable-extensions', '--hide-scrollbars', '--window-size=1280,900')
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCREENSHOTS = os.path.join(REPO, 'artifacts', 'screenshots')
PASSWORD = 'secret123'
WAIT = 20          # seconds: generous for a slow, noisy 2-core machine; every wait ends as soon as it can


def browser_missing():
    """Why the browser tests cannot run here, or None."""
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not os.access(p, os.X_OK)]
    if missing:
        return ('browser tests need Debian chromium and chromium-driver (missing: ' + ', '.join(missing) +
                '); install them with: apt-get install -y chromium chromium-driver fonts-wqy-microhei')
    return None


# --- the server ---------------------------------------------------------------------------------

class StatusRecorder:
    """WSGI middleware remembering (method, path, status) of every request, to assert no 5xx happened."""

    def __init__(self, app):
        self.app = app
        self.requests = []
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        def recording_start_response(status, headers, exc_info=None):
            with self.lock:
                self.requests.append((environ['REQUEST_METHOD'], environ.get('PATH_INFO', ''), int(status[:3])))
            return start_response(status, headers, exc_info)
        return self.app(environ, recording_start_response)

    def server_errors(self):
        with self.lock:
            return [r for r in self.requests if r[2] >= 500]


class LiveServer:
    """The Flask app on a free loopback port, served by threaded werkzeug in a background thread."""

    def __init__(self, app, log_path):
        self.app = app
        self.recorder = StatusRecorder(app.wsgi_app)
        app.wsgi_app = self.recorder
        self.log_handler = logging.FileHandler(log_path, encoding='utf-8')
        self.log_handler.setFormatter(logging.Formatter('%(asctime)s %(levelname)s %(name)s %(message)s'))
        self.loggers = [logging.getLogger(n) for n in ('chuangzheng', 'werkzeug', 'flask.app')]
        self.server = make_server('127.0.0.1', 0, app, threaded=True)
        self.port = self.server.server_port
        self.thread = threading.Thread(target=self.server.serve_forever, name='browser-test-server', daemon=True)

    def start(self):
        self.levels = [logger.level for logger in self.loggers]
        for logger in self.loggers:
            logger.addHandler(self.log_handler)
            if logger.level == logging.NOTSET or logger.level > logging.INFO:
                logger.setLevel(logging.INFO)
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.thread.join(timeout=10)
        self.server.server_close()
        for logger, level in zip(self.loggers, self.levels):
            logger.removeHandler(self.log_handler)
            logger.setLevel(level)
        self.log_handler.close()

    def url(self, path='/'):
        return f'http://127.0.0.1:{self.port}{path}'


def run_cli(database_url, *args, audit_key):
    """`flask --app web ARGS` in a separate process against the same database (like cron would)."""
    env = {**os.environ, 'DATABASE_URL': database_url, 'CHUANGZHENG_AUDIT_KEY': audit_key}
    return subprocess.run([sys.executable, '-m', 'flask', '--app', 'web', *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=60)


# --- the browser --------------------------------------------------------------------------------

def make_driver(profile_dir):
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROME_FLAGS:
        options.add_argument(flag)
    options.add_argument(f'--user-data-dir={profile_dir}')
    options.add_argument('--lang=zh-CN')
    options.add_experimental_option('prefs', {'intl.accept_languages': 'zh-CN,zh'})
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(30)
    return driver


# What Chromium answers when asked about an element while its page is being replaced (not a stale-element error)
MID_NAVIGATION = 'does not belong to the document'


def page_replaced(old_root):
    """True once the page that held old_root is gone. Mid-navigation Chromium may answer "Node with given id
    does not belong to the document" instead of a stale-element error; both mean the old page is gone."""
    try:
        old_root.is_enabled()
        return False
    except StaleElementReferenceException:
        return True
    except WebDriverException as error:
        if MID_NAVIGATION in str(error):
            return True
        raise


class Browser:
    """A person at the browser: open pages, click, fill, and look, always waiting for explicit conditions."""

    def __init__(self, driver, server):
        self.driver = driver
        self.server = server
        self.user = None

    # navigation and waiting
    def wait(self, condition, timeout=WAIT, message=''):
        def tolerant(driver):
            try:
                return condition(driver)
            except WebDriverException as error:
                if MID_NAVIGATION in str(error):     # the page is being replaced: ask again
                    return False
                raise
        return WebDriverWait(self.driver, timeout).until(tolerant, message)

    def loaded(self):
        self.wait(lambda d: d.execute_script('return document.readyState') == 'complete',
                  message='page did not finish loading')

    def go(self, path):
        self.driver.get(self.server.url(path))
        self.loaded()

    @property
    def path(self):
        url = self.driver.current_url
        return url[len(self.server.url('')):] if url.startswith(self.server.url('')) else url

    def css(self, selector, within=None):
        return (within or self.driver).find_element(By.CSS_SELECTOR, selector)

    def all(self, selector, within=None):
        return (within or self.driver).find_elements(By.CSS_SELECTOR, selector)

    def xpath(self, expression):
        return self.driver.find_element(By.XPATH, expression)

    def present(self, selector):
        return bool(self.all(selector))

    def visible(self, selector):
        return self.wait(EC.visibility_of_element_located((By.CSS_SELECTOR, selector)),
                         message=f'{selector} not visible on {self.path}')

    def reveal(self, element):
        """Scroll an element to the middle of the screen (the sticky top bar would cover it at the top)."""
        self.driver.execute_script("arguments[0].scrollIntoView({block: 'center', inline: 'nearest'})", element)
        return element

    def press(self, element):
        """Click an element that does not leave the page (a checkbox, a <summary>)."""
        self.wait(lambda d: element.is_displayed() and element.is_enabled(), message='element not clickable')
        self.reveal(element).click()
        return element

    def click_and_load(self, element):
        """Click something that submits a form or follows a link, and wait for the next page."""
        old = self.css('html')
        self.press(element)
        self.wait(lambda d: page_replaced(old), message=f'no new page after the click on {self.path}')
        self.loaded()

    def click(self, selector):
        self.click_and_load(self.wait(EC.element_to_be_clickable((By.CSS_SELECTOR, selector)),
                                      message=f'{selector} not clickable on {self.path}'))

    def text(self, selector='body'):
        return self.css(selector).text

    def flashes(self, category):
        return [e.text for e in self.all(f'main > .flash.{category}[role=alert]')]

    def no_error_flash(self):
        errors = self.flashes('error')
        assert not errors, f'error message on {self.path}: {errors}'

    # signing in and out
    def login(self, username):
        if self.present('form[action$="/logout"] button'):
            self.click('form[action$="/logout"] button')
        self.go('/login')
        self.visible('input[name=username]').send_keys(username)
        self.css('input[name=password]').send_keys(PASSWORD)
        self.click('#login-button')
        assert not self.path.startswith('/login'), f'login as {username} failed: {self.flashes("error")}'
        self.user = username

    # forms on an object page
    def open_action(self, event):
        """Open the <details class="act"> of an event that needs a reason or payload; return its form."""
        selector = f'details.act > summary[data-event="{event}"]'
        summary = self.wait(EC.element_to_be_clickable((By.CSS_SELECTOR, selector)),
                            message=f'no "{event}" action on {self.path}')
        details = summary.find_element(By.XPATH, '..')
        if details.get_attribute('open') is None:
            self.press(summary)
        self.wait(lambda d: details.get_attribute('open') is not None, message=f'"{event}" did not open')
        return details.find_element(By.TAG_NAME, 'form')

    def act(self, event, reason=None, fields=None, checks=()):
        """Fire an event from an object page by clicking, as a person would; returns the flash messages."""
        simple = self.all(f'form > button[data-event="{event}"]')
        if simple and simple[0].is_displayed() and reason is None and not fields and not checks:
            self.click_and_load(simple[0])
        else:
            form = self.open_action(event)
            for name, value in (fields or {}).items():
                box = self.reveal(self.css(f'[name="{name}"]', within=form))
                box.clear()
                box.send_keys(str(value))
            for selector in checks:
                box = self.css(selector, within=form)
                if not box.is_selected():
                    self.press(box)
            if reason is not None:
                self.css('textarea[name=reason]', within=form).send_keys(reason)
            self.click_and_load(self.css(f'button[data-event="{event}"]', within=form))
        self.no_error_flash()
        return self.flashes('success')

    def state(self):
        """The object's state shown in the page header badge."""
        return self.css('main .card .badge[data-state]').get_attribute('data-state')

    def timeline_events(self):
        return [li.get_attribute('data-event') for li in self.all('ol.timeline > li')]

    # requests a person could make from the page's own scripts
    def fetch(self, path, form=None):
        """fetch() from the current page (same origin, with the session cookie); returns the HTTP status.
        With `form`, POSTs it url-encoded with the page's CSRF token added."""
        script = """
            const [path, form, done] = arguments;
            const init = {credentials: 'same-origin', redirect: 'manual'};
            if (form) {
              const body = new URLSearchParams(form);
              body.set('csrf_token', document.querySelector('input[name=csrf_token]').value);
              init.method = 'POST';
              init.body = body;
            }
            fetch(path, init).then(r => done(r.status), e => done('error: ' + e));
        """
        return self.driver.execute_async_script(script, path, form)

    # pictures
    def wait_for_diagram(self):
        self.wait(lambda d: d.execute_script(
            "const p = document.querySelector('pre.mermaid'); return !p || !!p.querySelector('svg');"),
            message='the state diagram was not rendered')

    def screenshot(self, name, full_page=True):
        """A PNG of the whole page (not only the viewport) in artifacts/screenshots/."""
        os.makedirs(SCREENSHOTS, exist_ok=True)
        path = os.path.join(SCREENSHOTS, f'{name}.png')
        self.driver.execute_script('document.activeElement && document.activeElement.blur()')   # no focus ring
        if full_page:
            metrics = self.driver.execute_cdp_cmd('Page.getLayoutMetrics', {})
            size = metrics.get('cssContentSize') or metrics['contentSize']
            width = max(size['width'], metrics['cssLayoutViewport']['clientWidth'])
            shot = self.driver.execute_cdp_cmd('Page.captureScreenshot', {
                'format': 'png', 'captureBeyondViewport': True,
                'clip': {'x': 0, 'y': 0, 'width': width, 'height': min(size['height'], 8000), 'scale': 1}})
            with open(path, 'wb') as f:
                f.write(base64.b64decode(shot['data']))
        else:
            self.driver.save_screenshot(path)
        return path

    @contextlib.contextmanager
    def phone(self, width=390, height=844):
        """Emulate a phone-size screen (device width `width` CSS pixels, touch, mobile viewport)."""
        self.driver.execute_cdp_cmd('Emulation.setDeviceMetricsOverride', {
            'width': width, 'height': height, 'deviceScaleFactor': 2, 'mobile': True})
        try:
            yield
        finally:
            self.driver.execute_cdp_cmd('Emulation.clearDeviceMetricsOverride', {})

    def page_is_wider_than_screen(self):
        return self.driver.execute_script(
            'return document.documentElement.scrollWidth > window.innerWidth + 1')
