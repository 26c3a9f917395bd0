"""The dynalite the tests share keeps serving when a client goes away in the middle of a request."""

import socket
import time

import boto3

from tests.dynalite import Dynalite

HALF_A_REQUEST = (b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-amz-json-1.0\r\n"
                  b"X-Amz-Target: DynamoDB_20120810.ListTables\r\nContent-Length: 100\r\n\r\n{")


def test_a_client_gone_mid_request_leaves_dynalite_serving():
    with Dynalite() as server:
        with socket.create_connection(("127.0.0.1", server.port)) as sock:
            sock.sendall(HALF_A_REQUEST)
            time.sleep(0.2)  # the server has read the headers and waits for the body
        time.sleep(0.5)
        assert server.process.poll() is None, "dynalite exited"
        client = boto3.client("dynamodb", endpoint_url=server.endpoint, region_name="us-east-1",
                              aws_access_key_id="test", aws_secret_access_key="test")
        assert client.list_tables()["TableNames"] == []
