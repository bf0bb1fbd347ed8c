"""Arguments the commands that act in one organization declare alike."""


def add_organization_argument(parser) -> None:
    # Matched as portal.selectors.find_organization matches it.
    parser.add_argument("--organization", required=True, help="The organization's name or slug.")
