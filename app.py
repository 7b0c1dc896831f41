"""Gongzhi entry point, in two roles.

`streamlit run app.py` finds the ASGI app `app` below (st.App) and serves it: Streamlit plus
Gongzhi's own routes, security headers and sign-in gate (gongzhi.web). That server then runs this
same file as the Streamlit script for every rerun, as `__main__`: page config, database, sign-in,
language, and the menu over views/."""

import streamlit as st


def main() -> None:
    from components.navigation import default_page, pages_for
    from components.page_setup import CURRENT_PAGE_KEY, account_box, display_view, language_switch, page_setup
    from components.projector import apply_theme, projector_bar, projector_toggle
    from components.streamlit_strings import streamlit_strings

    st.set_page_config(page_title="Gongzhi 共治", page_icon="🏘️", layout="wide")

    ctx = page_setup()
    # A screen holding a display link: the page of the link's view only (None for anyone else).
    display = display_view() if ctx.actor is not None and ctx.actor.user_id is None else None
    entries = pages_for(ctx.actor, display=display)
    default = default_page(ctx.actor, display=display)
    pages = [
        st.Page(entry.path, title=ctx.t(entry.title_key), icon=entry.icon, url_path=entry.url_path,
                default=entry.url_path == default)
        for entry in entries
    ]
    # In projector mode the menu moves from the (hidden) sidebar into the projector bar. Always the
    # whole menu (an admin has 13 pages; Streamlit folds a menu of more than 12 by default).
    navigation = st.navigation(pages, position="sidebar" if ctx.actor and not ctx.projector else "hidden",
                               expanded=True)
    st.session_state[CURRENT_PAGE_KEY] = navigation.url_path  # "" for the default page
    apply_theme(ctx)
    streamlit_strings(ctx)
    if ctx.projector:
        projector_bar(ctx, [page for page, entry in zip(pages, entries, strict=True)
                            if not (display and entry.url_path == default)], navigation.url_path)
    account_box(ctx)
    projector_toggle(ctx)
    language_switch(ctx)
    navigation.run()


if __name__ == "__main__":
    main()
else:  # imported by the server that `streamlit run app.py` starts
    import os

    from starlette.middleware import Middleware

    from gongzhi.config import BASE_URL_PATH_ENV
    from gongzhi.public_web import routes as public_routes
    from gongzhi.resident_web import routes as resident_routes
    from gongzhi.web import GongzhiMiddleware, lifespan, routes

    # Streamlit's server.baseUrlPath, for the core (which never imports Streamlit) and this
    # process's reruns: every route, redirect, link and cookie path is built under it.
    os.environ[BASE_URL_PATH_ENV] = st.get_option("server.baseUrlPath") or ""
    app = st.App(__file__, routes=[*routes(), *resident_routes(), *public_routes()],
                 middleware=[Middleware(GongzhiMiddleware)], lifespan=lifespan)
