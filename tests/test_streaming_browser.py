"""A browser reads a streamed chat: headless Chromium (Debian's packages) on a page of the test's own (another
origin, as the frontend is), which posts a message with fetch and reads the body as it arrives. Each delta must
be on the page while upstream has not yet sent the next one. Skipped, saying why, without Chromium."""

import http.server
import json
import tempfile
import threading

import pytest

from tests.helpers.auth import bearer
from tests.helpers.browser import CHROMEDRIVER, CHROMIUM, needs_chromium
from tests.helpers.live import wisdom_server
from tests.helpers.processes import free_port

pytestmark = [pytest.mark.live, pytest.mark.browser, pytest.mark.django_db(transaction=True), needs_chromium]

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>chat</title></head>
<body>
<button id="send">Send</button>
<p id="status"></p>
<ol id="deltas"></ol>
<p id="done"></p>
<script>
const API = %(api)s, AUTHORIZATION = %(authorization)s;
document.getElementById("send").onclick = async () => {
  const response = await fetch(API + "/personal/entities/ada/messages", {
    method: "POST",
    headers: {"Authorization": AUTHORIZATION, "Content-Type": "application/json", "Accept": "text/event-stream"},
    body: JSON.stringify({content: "one two"}),
  });
  document.getElementById("status").textContent =
    response.status + " " + response.headers.get("Content-Type") + " " + response.headers.get("RateLimit-Policy");
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const {value, done} = await reader.read();
    if (done) break;
    buffer += value;
    let end;
    while ((end = buffer.indexOf("\\n\\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let name = "message", data = null;
      for (const line of block.split("\\n")) {
        if (line.startsWith("event: ")) name = line.slice(7);
        else if (line.startsWith("data: ")) data = JSON.parse(line.slice(6));
      }
      if (name === "delta") {
        const item = document.createElement("li");
        item.textContent = data.text;
        document.getElementById("deltas").appendChild(item);
      } else if (name === "done") {
        document.getElementById("done").textContent = data.reply;
      }
    }
  }
};
</script>
</body></html>
"""


class _PageServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    page = b""


class _PageHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(self.server.page)))
        self.end_headers()
        self.wfile.write(self.server.page)

    def log_message(self, format, *args):
        pass


@pytest.fixture
def page_origin():
    server = _PageServer(("127.0.0.1", free_port()), _PageHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def browser(tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"):
        options.add_argument(flag)
    with tempfile.TemporaryDirectory(dir=tmp_path) as profile:
        options.add_argument(f"--user-data-dir={profile}")
        driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)  # no Selenium Manager download
        try:
            yield driver
        finally:
            driver.quit()


def test_a_browser_sees_each_delta_arrive_before_the_next_is_sent(
    agents_double, make_live_user, page_origin, browser, tmp_path
):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    alice = make_live_user(email="alice.browser@example.com")
    assert agents_double.seed_entity(name="ada", owner_id=str(alice.pk)).status_code == 201
    agents_double.switch(stream_step=True)  # each delta after the first waits until the test moves the switches
    page_server, origin = page_origin
    with wisdom_server(tmp_path, workers=1, threads=4, double=agents_double, CORS_ALLOWED_ORIGINS=origin) as server:
        page_server.page = (
            PAGE % {"api": json.dumps(server.url), "authorization": json.dumps(bearer(alice)["Authorization"])}
        ).encode()
        wait = WebDriverWait(browser, 15)

        def deltas() -> list[str]:
            return [item.text for item in browser.find_elements(By.CSS_SELECTOR, "#deltas li")]

        try:
            browser.get(origin)
            browser.find_element(By.ID, "send").click()
            shown = []
            for expected in ["You", "said:", "one", "two"]:
                wait.until(lambda _, count=len(shown) + 1: len(deltas()) >= count)
                shown = deltas()
                assert shown[-1] == expected  # innerText trims the trailing space
                assert agents_double.streams()[0]["deltas_sent"] == len(shown)  # the next is not even sent yet
                if expected != "two":
                    agents_double.switch(stream_step=True)  # release the next delta
            wait.until(lambda _: browser.find_element(By.ID, "done").text)
        except Exception:
            shot = tmp_path / "stream-failure.png"
            browser.save_screenshot(str(shot))
            print(f"\nscreenshot: {shot}\nserver log:\n{server.log()[-3000:]}")
            raise

        assert browser.find_element(By.ID, "done").text == "You said: one two"
        status = browser.find_element(By.ID, "status").text
        # CORS exposes RateLimit
        assert status.startswith("200 text/event-stream; charset=utf-8 ") and '"minute";q=' in status
        assert deltas() == ["You", "said:", "one", "two"]
