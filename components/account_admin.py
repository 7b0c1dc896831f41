"""The accounts page's pieces, for admins: the accounts table, a form to create an account, and
for the chosen account a form to edit it (role, display name, grids, active) and one to set a new
password, its sign-ins (ended all at once), and deleting it. The core (gongzhi.accounts) checks the admin role
and every value again; a new password, role or grids, or disabling ends the account's sessions,
which takes effect at its next rerun, as components.page_setup checks the session every time."""

import pandas as pd
import streamlit as st

from components.data import query
from components.forms import save
from components.page_setup import PageContext
from components.session_panel import account_sessions
from gongzhi.accounts import (
    DISPLAY_NAME_MAX,
    MIN_PASSWORD_LENGTH,
    create_account,
    delete_account,
    list_accounts,
    reset_password,
    update_account,
)
from gongzhi.permissions import Role
from gongzhi.queries.areas import list_grids

ROLES = [role.value for role in Role]
NEW_PREFIX = "account_new_"
SELECTED_KEY = "account_selected"
LIST_SEPARATOR = {"zh-CN": "、", "en": ", "}


def _forget(prefix: str) -> None:
    """Drop the remembered values of a form's widgets, so it shows fresh data after a save."""
    for key in [key for key in st.session_state if str(key).startswith(prefix)]:
        del st.session_state[key]


def _grids() -> dict[int, str]:
    return {int(row.id): row.name for row in query(list_grids).itertuples()}


def _role_label(ctx: PageContext):
    return lambda code: ctx.label("role", code)


def accounts_section(ctx: PageContext) -> pd.DataFrame:
    """The table of accounts; returns them (for choosing one to edit)."""
    st.header(ctx.t("accounts.list_title"))
    accounts = query(list_accounts, viewer=ctx.actor)
    separator = LIST_SEPARATOR.get(ctx.lang, ", ")
    yes_no = {True: ctx.t("common.yes"), False: ctx.t("common.no")}
    st.dataframe(pd.DataFrame({
        ctx.t("accounts.col_username"): accounts["username"],
        ctx.t("accounts.col_display_name"): accounts["display_name"],
        ctx.t("accounts.col_role"): [ctx.label("role", role) for role in accounts["role"]],
        ctx.t("accounts.col_grids"): [separator.join(names) for names in accounts["grids"]],
        ctx.t("accounts.col_active"): [yes_no[bool(active)] for active in accounts["active"]],
        ctx.t("accounts.col_oidc"): [yes_no[bool(linked)] for linked in accounts["oidc_linked"]],
        ctx.t("accounts.col_created_at"): accounts["created_at"],
    }), hide_index=True, width="stretch", key="accounts_table", column_config={
        ctx.t("accounts.col_created_at"): st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
    })
    return accounts


def choose_account(ctx: PageContext, accounts: pd.DataFrame) -> pd.Series | None:
    if accounts.empty:
        return None
    rows = {int(row["id"]): row for _, row in accounts.iterrows()}
    if st.session_state.get(SELECTED_KEY) not in rows:
        st.session_state.pop(SELECTED_KEY, None)
    chosen = st.selectbox(ctx.t("accounts.select_account"), list(rows), key=SELECTED_KEY,
                          format_func=lambda i: f"{rows[i]['display_name']} ({rows[i]['username']})")
    return rows[chosen]


def account_panel(ctx: PageContext, account: pd.Series) -> None:
    edit_tab, password_tab, sessions_tab, delete_tab = st.tabs([
        ctx.t("accounts.edit_title"), ctx.t("accounts.password_title"), ctx.t("sessions.sessions_tab"),
        ctx.t("accounts.delete_title")])
    with edit_tab:
        edit_account_form(ctx, account)
    with password_tab:
        reset_password_form(ctx, account)
    with sessions_tab:
        account_sessions(ctx, int(account["id"]), str(account["username"]))
    with delete_tab:
        delete_account_form(ctx, account)


def passwords_match(ctx: PageContext, password: str, repeated: str) -> bool:
    """(Also the own password form's.) Typed twice, so a typo does not lock the owner out; said here, the core never sees the second copy."""
    if password != repeated:
        st.error(ctx.t("accounts.passwords_differ"))
        return False
    return True


def create_account_form(ctx: PageContext) -> None:
    st.header(ctx.t("accounts.create_title"))
    grids = _grids()
    with st.form("account_new"):
        left, right = st.columns(2)
        username = left.text_input(ctx.t("auth.field_username"), key=NEW_PREFIX + "username", max_chars=40)
        display_name = right.text_input(ctx.t("accounts.field_display_name"), key=NEW_PREFIX + "display_name",
                                        max_chars=DISPLAY_NAME_MAX, help=ctx.t("accounts.display_name_help"))
        role = left.selectbox(ctx.t("auth.field_role"), ROLES, key=NEW_PREFIX + "role",
                              index=ROLES.index(Role.REPRESENTATIVE), format_func=_role_label(ctx))
        grid_ids = right.multiselect(ctx.t("auth.field_grids"), list(grids), key=NEW_PREFIX + "grids",
                                     format_func=grids.get, help=ctx.t("accounts.grids_help"),
                                     placeholder=ctx.t("accounts.choose"))
        password = left.text_input(ctx.t("auth.field_password"), type="password", key=NEW_PREFIX + "password",
                                   help=ctx.t("accounts.password_help", min=MIN_PASSWORD_LENGTH))
        repeated = right.text_input(ctx.t("accounts.field_password_repeat"), type="password",
                                    key=NEW_PREFIX + "password_repeat")
        submitted = st.form_submit_button(ctx.t("accounts.create_button"), key=NEW_PREFIX + "submit", type="primary")
    if submitted and passwords_match(ctx, password, repeated):
        def action(session):
            user = create_account(session=session, actor=ctx.actor, username=username, password=password, role=role,
                                  display_name=display_name, grid_ids=tuple(grid_ids))
            _forget(NEW_PREFIX)
            return user

        # The password stays out of the double-submit fingerprint; the rest tells a repeat apart.
        save(ctx, action, success=ctx.t("accounts.created", username=username.strip()), form_key=NEW_PREFIX,
             submission=(username, display_name, role, tuple(grid_ids)))


def edit_account_form(ctx: PageContext, account: pd.Series) -> None:
    """Prefilled with the account as now stored. The version the form was opened on is kept, so
    a save over another admin's change in the meantime is refused rather than overwriting it."""
    account_id = int(account["id"])
    prefix = f"account_edit_{account_id}_"
    version_key = prefix + "version"
    opened_version = st.session_state.setdefault(version_key, int(account["version"]))
    if opened_version != int(account["version"]):
        st.warning(ctx.t("accounts.changed_meanwhile"))
        if st.button(ctx.t("accounts.reload"), key="account_edit_reload"):
            _forget(prefix)
            st.rerun()
    grids = _grids()
    with st.form(f"account_edit_{account_id}"):
        left, right = st.columns(2)
        role = left.selectbox(ctx.t("auth.field_role"), ROLES, key=prefix + "role",
                              index=ROLES.index(account["role"]) if account["role"] in ROLES else None,
                              format_func=_role_label(ctx))
        display_name = right.text_input(ctx.t("accounts.field_display_name"), value=account["display_name"],
                                        key=prefix + "display_name", max_chars=DISPLAY_NAME_MAX)
        grid_ids = left.multiselect(ctx.t("auth.field_grids"), list(grids), key=prefix + "grids",
                                    default=[grid for grid in account["grid_ids"] if grid in grids],
                                    format_func=grids.get, help=ctx.t("accounts.grids_help"),
                                    placeholder=ctx.t("accounts.choose"))
        active = right.checkbox(ctx.t("accounts.field_active"), value=bool(account["active"]), key=prefix + "active",
                                help=ctx.t("accounts.active_help"))
        submitted = st.form_submit_button(ctx.t("common.save"), key="account_edit_submit", type="primary")
    if submitted:
        def action(session):
            user = update_account(session=session, actor=ctx.actor, user_id=account_id, role=role,
                                  display_name=display_name, grid_ids=tuple(grid_ids), active=active,
                                  expected_version=opened_version)
            _forget(prefix)
            return user

        save(ctx, action, success=ctx.t("accounts.updated", username=account["username"]))


def reset_password_form(ctx: PageContext, account: pd.Series) -> None:
    account_id = int(account["id"])
    prefix = f"account_password_{account_id}_"
    st.caption(ctx.t("accounts.password_intro", username=account["username"]))
    with st.form(f"account_password_{account_id}"):
        left, right = st.columns(2)
        password = left.text_input(ctx.t("accounts.field_new_password"), type="password", key=prefix + "password",
                                   help=ctx.t("accounts.password_help", min=MIN_PASSWORD_LENGTH))
        repeated = right.text_input(ctx.t("accounts.field_password_repeat"), type="password",
                                    key=prefix + "password_repeat")
        submitted = st.form_submit_button(ctx.t("accounts.password_button"), key="account_password_submit",
                                          type="primary")
    if submitted and passwords_match(ctx, password, repeated):
        def action(session):
            user = reset_password(session=session, actor=ctx.actor, user_id=account_id, new_password=password)
            _forget(prefix)
            # The new password bumped the account's version: the edit form starts from it afresh.
            _forget(f"account_edit_{account_id}_")
            return user

        save(ctx, action, success=ctx.t("accounts.password_reset", username=account["username"]))


def delete_account_form(ctx: PageContext, account: pd.Series) -> None:
    """Delete the chosen account (soft), after ticking a confirmation; on the copy the admin saw."""
    account_id = int(account["id"])
    username = str(account["username"])
    st.caption(ctx.t("accounts.delete_intro", username=username))
    with st.form(f"account_delete_{account_id}"):
        confirmed = st.checkbox(ctx.t("accounts.delete_confirm", username=username),
                                key=f"account_delete_{account_id}_confirm")
        submitted = st.form_submit_button(ctx.t("accounts.delete_button"), key="account_delete_submit",
                                          icon=":material/delete:")
    if submitted and confirmed:
        def action(session):
            user = delete_account(session=session, actor=ctx.actor, user_id=account_id,
                                  expected_version=int(account["version"]))
            st.session_state.pop(SELECTED_KEY, None)
            return user

        save(ctx, action, success=ctx.t("accounts.deleted", username=username))
