"""Gongzhi entry point, in two roles.

`streamlit run app.py` finds the ASGI app `app` below (st.App) and serves it: Streamlit plus
Gongzhi's own routes, security headers and sign-in gate (gongzhi.web). That server then runs this
same file as the Streamlit script for every rerun, as `__main__`: page config, database, sign-in,
language, and the menu over views/."""

import streamlit as st


def main() -> None:
    from components.navigation import default_page, pages_for
    from components.page_setup import CURRENT_PAGE_KEY, account_box, display_screen, language_switch, page_setup
    from components.projector import apply_theme, projector_bar, projector_toggle

    st.set_page_config(page_title="Gongzhi 共治", page_icon="🏘️", layout="wide")

    ctx = page_setup()
    display = display_screen() is not None and ctx.actor is not None and ctx.actor.user_id is None
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
    if ctx.projector:
        projector_bar(ctx, [page for page, entry in zip(pages, entries, strict=True)
                            if not (display and entry.url_path == default)])
    account_box(ctx)
    projector_toggle(ctx)
    language_switch(ctx)
    navigation.run()


if __name__ == "__main__":
    main()
else:  # imported by the server that `streamlit run app.py` starts
    from starlette.middleware import Middleware

    from gongzhi.public_web import ROUTES as PUBLIC_ROUTES
    from gongzhi.resident_web import ROUTES as RESIDENT_ROUTES
    from gongzhi.web import ROUTES, GongzhiMiddleware, lifespan

    app = st.App(__file__, routes=[*ROUTES, *RESIDENT_ROUTES, *PUBLIC_ROUTES], middleware=[Middleware(GongzhiMiddleware)],
                 lifespan=lifespan)
