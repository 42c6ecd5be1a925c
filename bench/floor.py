"""The cold-start floor of this stack: a bare Powertools resolver with validation, one pydantic
model and route, and a boto3 DynamoDB client. ``bench.cold_start`` times ``import bench.floor``."""

import boto3
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from pydantic import BaseModel

app = APIGatewayRestResolver(enable_validation=True)


class Item(BaseModel):
    name: str


@app.post("/items")
def create_item(item: Item) -> Item:
    return item


dynamodb = boto3.client("dynamodb", region_name="eu-west-1")
