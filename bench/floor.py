"""The cold-start floor of this stack: a bare Powertools resolver with validation, one pydantic model and route,
and a DynamoDB client, on the functions' diet (``shared/aws.py``): made by a botocore session, without boto3.
``bench.cold_start`` times ``import bench.floor``."""

from functions import lazy_packages

lazy_packages.install()  # as functions/api/__init__.py does: the REST resolver without the other resolvers

from aws_lambda_powertools.event_handler import APIGatewayRestResolver  # noqa: E402
from botocore.session import Session  # noqa: E402
from pydantic import BaseModel  # noqa: E402

app = APIGatewayRestResolver(enable_validation=True)


class Item(BaseModel):
    name: str


@app.post("/items")
def create_item(item: Item) -> Item:
    return item


dynamodb = Session().create_client("dynamodb", region_name="eu-west-1")
