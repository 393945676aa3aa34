"""The intake journey in Spanish: the language switch, the form, its errors
(the API's rules, translated), the shortlist and the accept."""

from __future__ import annotations

from playwright.async_api import expect

from ..api import Api
from ..cohort import Cohort
from .conftest import Browse, OpenWindow
from .test_intake_journey import fill_intake


async def test_the_intake_journey_in_spanish(
    api: Api, open_window: OpenWindow, planted: set[str]
) -> None:
    cohort = Cohort()
    planted.update({f"ref-{cohort.tag}-es"})
    peer = cohort.peer(1)
    await api.enrol(cohort, peer, email=False)

    window: Browse = await open_window()
    page = window.page
    await window.visit("/sign-in")
    await page.get_by_role("button", name="Español").click()
    await expect(page.get_by_role("heading", name="Iniciar sesión en Alongside")).to_be_visible()
    assert await page.get_attribute("html", "lang") == "es"
    await window.settled()
    await window.shot("sign-in-es")

    await window.sign_in("intake", f"staff-{cohort.tag}")
    await expect(page.get_by_role("heading", name="Nueva admisión")).to_be_visible()
    await page.locator("#field-participant_ref").fill("no vale!")
    await expect(page.locator("#error-participant_ref")).to_contain_text(
        "Referencia seudónima debe ser un identificador de 1 a 64 letras, dígitos o . _ : -"
        " que empiece por una letra o un dígito"
    )
    await fill_intake(window, cohort, f"ref-{cohort.tag}-es")
    await expect(page.locator("#error-participant_ref")).to_be_empty()
    await window.settled()
    await window.shot("intake-form-es")

    await page.get_by_role("button", name="Buscar pares").click()
    await expect(page.get_by_role("heading", name="Lista de candidatos")).to_be_visible()
    await window.settled()
    await window.shot("shortlist-es")
    await page.get_by_role("button", name=f"Aceptar a {peer.display_name}").click()
    await expect(page.get_by_role("heading", name="Asignación aceptada")).to_be_visible()
    await window.settled()
    # Back to English from any page.
    await page.get_by_role("button", name="English").click()
    await expect(page.get_by_role("heading", name="Match accepted")).to_be_visible()
