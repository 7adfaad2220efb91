"""``fink-like users add|token|list|remove``: accounts and API tokens of the portal and API.

A token is printed once, when issued; the archive keeps only its hash (docs/portal.md).
"""

from __future__ import annotations

import json


def register(sub) -> None:
    p = sub.add_parser("users", help="manage portal/API users and their tokens",
                       description="Users have roles reader < annotator < admin; tokens are stored hashed.")
    actions = p.add_subparsers(dest="users_action", metavar="ACTION", required=True,
                               parser_class=sub._parser_class)
    add = actions.add_parser("add", help="create a user (or change its role) and print a new token")
    add.add_argument("name", metavar="NAME")
    add.add_argument("--role", default="reader", choices=["reader", "annotator", "admin"])
    tok = actions.add_parser("token", help="print a new token for an existing user")
    tok.add_argument("name", metavar="NAME")
    rm = actions.add_parser("remove", help="delete a user and revoke all its tokens")
    rm.add_argument("name", metavar="NAME")
    ls = actions.add_parser("list", help="users, roles and how many tokens each holds")
    ls.add_argument("--json", action="store_true", help="print JSON")
    for parser in (add, tok, rm, ls):
        parser.set_defaults(handler=run)


def run(args, settings) -> int:
    from fink_like.api.accounts import Accounts

    accounts = Accounts(settings)
    try:
        if args.users_action == "add":
            print(accounts.add_user(args.name, args.role))
        elif args.users_action == "token":
            print(accounts.issue_token(args.name))
        elif args.users_action == "remove":
            print(f"removed {args.name}; {accounts.remove_user(args.name)} token(s) revoked")
        elif args.json:
            print(json.dumps(accounts.users(), indent=1))
        else:
            for user in accounts.users():
                print(f"{user['name']:<24}{user['role']:<11}{user['tokens']} token(s)  since {user['created']}")
    finally:
        accounts.close()
    return 0
