"""The AWS boundary: the only package that imports boto3 or botocore.

It takes injected clients (:class:`bluegreen.aws.session.Clients`) so tests point it at a
stub or at the embedded emulator, and turns botocore errors into
:class:`bluegreen.errors.AwsError` with a hint for the user.
"""
