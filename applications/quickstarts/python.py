# pip install requests-oauthlib python-dotenv    then: python quickstart.py (beside the .env file)
# (a portal on plain http://, such as a local one, also needs OAUTHLIB_INSECURE_TRANSPORT=1)
import json
import os

from dotenv import load_dotenv
from oauthlib.oauth2 import BackendApplicationClient
from requests_oauthlib import OAuth2Session

load_dotenv()
session = OAuth2Session(client=BackendApplicationClient(client_id=os.environ["CLIENT_ID"]))
session.fetch_token(
    token_url=os.environ["TOKEN_ENDPOINT"],
    client_id=os.environ["CLIENT_ID"],
    client_secret=os.environ["CLIENT_SECRET"],
)
response = session.get(os.environ["API_BASE_URL"] + "/credentials")
response.raise_for_status()
print(json.dumps(response.json(), indent=2))
