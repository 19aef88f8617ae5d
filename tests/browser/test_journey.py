"""A new user's first visit in a real browser: sign up, log in, manage a node, dark mode, log out."""

from __future__ import annotations

from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.conftest import console_errors, luminance, url

pytestmark = pytest.mark.browser
PASSWORD = "una frase bastante larga"


def wait(duo: Any, condition: Any, timeout: float = 10) -> Any:
    return WebDriverWait(duo.driver, timeout).until(condition)


def fill(duo: Any, selector: str, text: str) -> None:
    element = duo.wait_for_element(selector)
    element.clear()
    element.send_keys(text)


def theme(duo: Any) -> str:
    return duo.driver.execute_script("return document.documentElement.getAttribute('data-bs-theme')")


def toast_text(duo: Any, contains: str) -> None:
    wait(duo, EC.text_to_be_present_in_element((By.ID, "toasts"), contains))


def test_first_visit_journey(live: Any) -> None:
    duo = live
    duo.driver.get(url(duo, "register"))
    duo.wait_for_element("#register-username")
    fill(duo, "#register-username", "ana")
    fill(duo, "#register-email", "ana@example.com")
    fill(duo, "#register-password", PASSWORD)
    fill(duo, "#register-confirm", PASSWORD)
    duo.find_element("#register-submit").click()

    # Registered: the login page greets us with the username filled in.
    wait(duo, EC.url_contains("/enertrack/login"))
    toast_text(duo, "Tu cuenta está lista")
    assert duo.wait_for_element("#login-username").get_attribute("value") == "ana"
    fill(duo, "#login-password", PASSWORD)
    duo.find_element("#login-submit").click()
    wait(duo, EC.url_to_be(url(duo)))
    toast_text(duo, "Hola, ana.")

    # Add a node.
    duo.driver.get(url(duo, "nodes"))
    duo.wait_for_element("#nodes-empty")
    duo.find_element("#nodes-add").click()
    duo.wait_for_element("#node-form-node_id")
    fill(duo, "#node-form-node_id", "mal id")
    wait(duo, EC.text_to_be_present_in_element((By.ID, "node-form-node_id-feedback"), "sin espacios"))
    fill(duo, "#node-form-node_id", "casa-01")
    fill(duo, "#node-form-description", "Cocina")
    wait(duo, lambda d: d.find_element(By.ID, "node-form-save").is_enabled())
    duo.find_element("#node-form-save").click()
    toast_text(duo, "Nodo casa-01 añadido")
    wait(duo, EC.text_to_be_present_in_element((By.ID, "nodes-list"), "Cocina"))

    # Edit it.
    duo.driver.find_element(By.CSS_SELECTOR, "#nodes-list button.btn-outline-secondary").click()
    wait(duo, EC.text_to_be_present_in_element_value((By.ID, "node-form-description"), "Cocina"))
    assert not duo.find_element("#node-form-node_id").is_enabled()
    fill(duo, "#node-form-description", "Cocina y salón")
    wait(duo, lambda d: d.find_element(By.ID, "node-form-save").is_enabled())
    duo.find_element("#node-form-save").click()
    toast_text(duo, "Nodo casa-01 guardado")
    wait(duo, EC.text_to_be_present_in_element((By.ID, "nodes-list"), "Cocina y salón"))

    # Delete it, after a confirmation that warns about the readings.
    duo.driver.find_element(By.CSS_SELECTOR, "#nodes-list button.btn-outline-danger").click()
    wait(duo, EC.text_to_be_present_in_element((By.ID, "node-delete-text"), "lecturas"))
    duo.find_element("#node-delete-confirm").click()
    toast_text(duo, "Se borraron el nodo casa-01")
    duo.wait_for_element("#nodes-empty")

    # Dark mode survives a reload, and is there before the app renders.
    assert theme(duo) == "light"
    assert navbar_contrast(duo) > 0.5  # dark text on the light bar
    duo.find_element("#theme-toggle").click()
    wait(duo, lambda _d: theme(duo) == "dark")
    duo.driver.refresh()
    assert theme(duo) == "dark"
    duo.wait_for_element("#nodes-empty")
    assert theme(duo) == "dark"
    assert navbar_contrast(duo) > 0.5  # light text on the dark bar

    # Log out from the user menu.
    duo.find_element("#user-menu").click()
    duo.wait_for_element("#logout-button").click()
    wait(duo, EC.url_contains("/enertrack/login"))
    toast_text(duo, "Has cerrado sesión")
    duo.driver.get(url(duo, "nodes"))
    wait(duo, EC.url_contains("/enertrack/login?next="))

    assert console_errors(duo) == []


def navbar_contrast(duo: Any) -> float:
    """The smallest luminance gap between the navbar's background and its brand and link texts."""
    colors = duo.driver.execute_script("""
        var bar = document.getElementById('navbar');
        var texts = [bar.querySelector('.navbar-brand')].concat(Array.from(bar.querySelectorAll('.nav-link')));
        return [getComputedStyle(bar).backgroundColor].concat(texts.map(function (e) { return getComputedStyle(e).color; }));
    """)
    background, texts = luminance(colors[0]), colors[1:]
    assert texts, "no navbar text found"
    return min(abs(luminance(text) - background) for text in texts)


def test_language_switch_for_visitors(live: Any) -> None:
    duo = live
    duo.driver.get(url(duo, "login"))
    wait(duo, EC.text_to_be_present_in_element((By.ID, "login-submit"), "Iniciar sesión"))
    duo.find_element("#lang-menu").click()
    duo.wait_for_element("#lang-pick-en").click()
    wait(duo, EC.text_to_be_present_in_element((By.ID, "login-submit"), "Log in"))
    duo.driver.refresh()
    wait(duo, EC.text_to_be_present_in_element((By.ID, "login-submit"), "Log in"))
    assert console_errors(duo) == []


def test_profile_language_applies_after_login(live: Any) -> None:
    from tests.conftest import create_user

    duo = live
    create_user(duo.flask_app, "bob", language="en")
    duo.driver.get(url(duo, "login"))
    wait(duo, EC.text_to_be_present_in_element((By.ID, "login-submit"), "Iniciar sesión"))
    fill(duo, "#login-username", "bob")
    fill(duo, "#login-password", "correct horse battery staple")
    duo.find_element("#login-submit").click()
    wait(duo, EC.text_to_be_present_in_element((By.ID, "nav-links"), "Nodes"))
    duo.driver.refresh()
    wait(duo, EC.text_to_be_present_in_element((By.ID, "nav-links"), "Analysis"))
    assert console_errors(duo) == []


def test_node_description_is_text_in_the_browser(live: Any) -> None:
    from enertrack.web.services import nodes
    from tests.conftest import create_user

    duo = live
    payload = "<img src=x onerror=alert(1)>"
    uid = create_user(duo.flask_app, "eve")
    with duo.flask_app.extensions["enertrack"].transaction() as db:
        nodes.create_node(db, uid, {"node_id": "n1", "description": payload, "location": payload, "interval_s": 10})
    duo.driver.get(url(duo, "login"))
    fill(duo, "#login-username", "eve")
    fill(duo, "#login-password", "correct horse battery staple")
    duo.find_element("#login-submit").click()
    wait(duo, EC.url_to_be(url(duo)))
    duo.driver.get(url(duo, "nodes"))
    wait(duo, EC.text_to_be_present_in_element((By.ID, "nodes-list"), payload))
    assert duo.driver.find_elements(By.CSS_SELECTOR, "#nodes-list img") == []
    assert console_errors(duo) == []


def test_theme_follows_the_os_until_chosen(live: Any) -> None:
    duo = live
    duo.driver.execute_cdp_cmd("Emulation.setEmulatedMedia",
                               {"features": [{"name": "prefers-color-scheme", "value": "dark"}]})
    duo.driver.get(url(duo, "login"))
    duo.driver.execute_script("window.localStorage.clear()")
    duo.driver.get(url(duo, "login"))
    assert theme(duo) == "dark"  # set by the <head> script, before the app renders
    duo.wait_for_element("#login-submit")
    duo.find_element("#theme-toggle").click()
    wait(duo, lambda _d: theme(duo) == "light")
    duo.driver.refresh()
    assert theme(duo) == "light"  # the choice now wins over the OS
    assert console_errors(duo) == []


def test_an_ended_session_sends_the_user_to_login(live: Any) -> None:
    from tests.conftest import create_user

    duo = live
    create_user(duo.flask_app, "ana")
    duo.driver.get(url(duo, "login"))
    fill(duo, "#login-username", "ana")
    fill(duo, "#login-password", "correct horse battery staple")
    duo.find_element("#login-submit").click()
    wait(duo, EC.text_to_be_present_in_element((By.ID, "nav-links"), "Nodos"))
    duo.driver.delete_all_cookies()  # the session ends (expired, logged out elsewhere, new key)
    duo.driver.find_element(By.CSS_SELECTOR, "#nav-links a[href='/enertrack/nodes']").click()
    wait(duo, EC.url_contains("/enertrack/login?next=%2Fenertrack%2Fnodes"))
    duo.wait_for_element("#login-submit")
