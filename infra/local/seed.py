"""Tenants and users of the local cloud: the operator commands' helpers and the demo seed.

A user is a Cognito user (username = email, ``custom:tenant_id``, the role's group) plus a profile in the
tenant's directory, made by ``shared.admin.users`` as a manager's invitation makes it, here with a permanent
password. These run in the ``deskos`` process: PynamoDB and boto3 reach moto through ``AWS_ENDPOINT_URL``
and the pool named by ``DESKOS_USER_POOL_ID``.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.admin.users import NewUser, invite
from shared.caller import Role, TenantContext
from shared.crm import clients, contacts
from shared.crm.clients import NewClient
from shared.crm.contacts import NewContact
from shared.db.table import get_or_none
from shared.errors import Conflict, NotFound
from shared.field import technicians
from shared.marketing import segments, tags, templates
from shared.tenants import Tenant, create_tenant

OPERATOR = "operator"
DEMO_TENANT = "demo"
DEMO_TENANT_NAME = "Demo Firm"
DEMO_CLIENT_NAME = "Acme Ltd"
# a contact of Acme who writes to the support mailbox (support@demo.<inbound domain>): email-to-ticket
DEMO_CONTACT = ("Casey Contact", "casey@acme.example")
DEMO_PASSWORD = "Demo-pass-1!"
DEMO_TECHNICIAN_HOURS = {  # Mon-Fri 08:00-17:00 in London
    "time_zone": "Europe/London",
    "windows": [{"day": day, "start": "08:00", "end": "17:00"} for day in ("mon", "tue", "wed", "thu", "fri")],
}
DEMO_USERS = (  # (role, email, name); the manager comes first: the tenant is created with it
    (Role.MANAGERS, "manager@demo.deskos.local", "Maya Manager"),
    (Role.STAFF, "agent@demo.deskos.local", "Sam Agent"),
    (Role.STAFF, "technician@demo.deskos.local", "Theo Technician"),
    (Role.PORTAL, "portal@acme.example", "Pat Portal"),
)


@dataclass(frozen=True)
class LocalUser:
    username: str
    role: str
    tenant_id: str
    user_id: str
    client_id: str | None = None


def create_user(
    *,
    tenant_id: str,
    role: Role,
    email: str,
    password: str,
    name: str | None = None,
    client_id: str | None = None,
    actor: str = OPERATOR,
) -> LocalUser:
    """A user of the tenant with a permanent password: what a manager's invitation makes (``/admin/users``),
    made by the same code, without the email."""
    if not tenant_exists(tenant_id):
        raise NotFound(f"No tenant {tenant_id}.")
    ctx = TenantContext(tenant_id, actor, actor, frozenset({Role.MANAGERS, Role.STAFF}))
    body = NewUser(email=email, name=name or email, role=role, client_id=client_id)
    profile = invite(ctx, body, password=password)
    return LocalUser(email, str(role), tenant_id, profile.user_id, client_id)


def tenant_exists(tenant_id: str) -> bool:
    return get_or_none(Tenant, Tenant.key(tenant_id)) is not None


def create_tenant_with_manager(
    *,
    tenant_id: str,
    name: str,
    manager_email: str,
    manager_password: str,
    manager_name: str | None = None,
) -> LocalUser:
    if tenant_exists(tenant_id):
        raise Conflict(f"Tenant {tenant_id} already exists.")
    tenant = create_tenant(tenant_id, name, actor=OPERATOR)
    return create_user(
        tenant_id=tenant.tenant_id,
        role=Role.MANAGERS,
        email=manager_email,
        password=manager_password,
        name=manager_name,
        actor=OPERATOR,
    )


def demo_logins() -> list[dict[str, str]]:
    return [
        {"username": email, "password": DEMO_PASSWORD, "role": str(role), "tenant_id": DEMO_TENANT}
        for role, email, _ in DEMO_USERS
    ]


def seed_demo() -> list[LocalUser]:
    """The demo tenant, its users and a client account for the portal user; nothing if already there."""
    if tenant_exists(DEMO_TENANT):
        return []
    (_, manager_email, manager_name), *others = DEMO_USERS
    manager = create_tenant_with_manager(
        tenant_id=DEMO_TENANT,
        name=DEMO_TENANT_NAME,
        manager_email=manager_email,
        manager_password=DEMO_PASSWORD,
        manager_name=manager_name,
    )
    ctx = TenantContext(DEMO_TENANT, manager.user_id, manager.username, frozenset({Role.MANAGERS, Role.STAFF}))
    acme = NewClient(name=DEMO_CLIENT_NAME, customer_type="premium", location={"lat": 51.5155, "lng": -0.0922})
    client = clients.create(ctx, acme)
    name, email = DEMO_CONTACT
    contacts.create(ctx, NewContact(client_id=client.id, name=name, email=email))
    users = [manager]
    for role, email, name in others:
        users.append(
            create_user(
                tenant_id=DEMO_TENANT,
                role=role,
                email=email,
                password=DEMO_PASSWORD,
                name=name,
                client_id=client.id if role is Role.PORTAL else None,
                actor=manager.user_id,
            )
        )
        if email == "technician@demo.deskos.local":
            _technician_profile(ctx, users[-1], name)
    _marketing(ctx)
    _public_faq(ctx)
    return users


def _marketing(ctx: TenantContext) -> None:
    """A vip tag, a segment of premium clients' vip contacts and a newsletter template: a campaign is two calls
    away (docs/modules/marketing.md)."""
    vip = tags.create(ctx, tags.NewTag(name="vip", colour="#aa3300", description="Our most valued contacts"))
    criteria = {
        "match": "all",
        "conditions": [
            {"field": "client.customer_type", "operator": "equals", "value": "premium"},
            {"field": "contact.tags", "operator": "has_tag", "value": vip.id},
        ],
    }
    segments.create(ctx, segments.NewSegment(name="Premium clients' VIP contacts", criteria=criteria))
    newsletter = templates.NewEmailTemplate(
        name="Newsletter",
        subject="News from {{ firm.name }}",
        html='<p>Hello {{ contact.first_name | default("there") }},</p><p>Our news for {{ client.name }}.</p>',
    )
    templates.create(ctx, newsletter)


DEMO_FAQ = {
    "title": "How do I reset my password?",
    "kind": "faq",
    "category": "Accounts",
    "tags": ["password", "sign-in"],
    "visibility": "public",
    "body": "Choose **Forgot password** on the sign-in page and follow the link we email you.\n\n"
    "The link works for one hour. If no email arrives, check your spam folder or open a ticket.",
}


def _public_faq(ctx: TenantContext) -> None:
    """One published public FAQ, so the demo portal user finds something in search and suggestions."""
    from shared.knowledge import items, reviews
    from shared.knowledge.schemas import NewItem

    made = items.create(ctx, NewItem(**DEMO_FAQ))
    reviews.publish(ctx, made.id, None)


def _technician_profile(ctx: TenantContext, user: LocalUser, name: str) -> None:
    body = technicians.NewTechnician(
        user_id=user.user_id,
        name=name,
        email=user.username,
        skills=["networking"],
        home={"lat": 51.5072, "lng": -0.1276},
        service_radius_km=50,
        capacity=10,
        working_hours=DEMO_TECHNICIAN_HOURS,
    )
    technicians.create(ctx, body)
