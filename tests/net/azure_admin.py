#!/usr/bin/env python3
"""azure_admin.py - what the tests need from an Azure Blob store besides
backstop itself, with the Python standard library only (an implementation
of Shared Key and service SAS independent of backstop's C one):

  azure_admin.py container ENDPOINT ACCOUNT CONTAINER   create a container
  azure_admin.py sas ACCOUNT CONTAINER PERMISSIONS      print a service SAS
                                                          for the container
  azure_admin.py list ENDPOINT ACCOUNT CONTAINER PREFIX print the blob names
                                                          under PREFIX
  azure_admin.py blocks ENDPOINT ACCOUNT CONTAINER BLOB print the number of
                                                          committed blocks
  azure_admin.py uncommitted ENDPOINT ACCOUNT CONTAINER BLOB  the number of
                                                          uncommitted blocks
                                                          (0: none, or no blob)
  azure_admin.py get ENDPOINT ACCOUNT CONTAINER BLOB    print the blob
  azure_admin.py wait-blocks ENDPOINT ACCOUNT CONTAINER PREFIX
                          wait (10 s at most) until an upload marked under
                          PREFIX/tmp/uploads/ has uncommitted blocks; print
                          its blob (PREFIX/key)

The account key comes from AZURE_STORAGE_KEY (never an argument: it would
show in ps).  ENDPOINT is path-style (Azurite): http://127.0.0.1:PORT/ACCOUNT.
The SAS uses the documented string-to-sign of version 2018-11-09 ("Create a
service SAS"), valid for one hour.
"""
import base64
import datetime
import hashlib
import hmac
import os
import sys
import time
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET


def key():
    return base64.b64decode(os.environ["AZURE_STORAGE_KEY"])


def sign(text):
    return base64.b64encode(hmac.new(key(), text.encode(), hashlib.sha256).digest()).decode()


def request(method, endpoint, account, path, query, ctype=""):
    """A Shared Key request; query is a list of (name, value)."""
    url = "%s/%s?%s" % (endpoint, path, urllib.parse.urlencode(query))
    upath = urllib.parse.urlsplit(url).path
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%a, %d %b %Y %H:%M:%S GMT")
    canon = "".join("\n%s:%s" % (k, v) for k, v in sorted(query))
    sts = "%s\n\n\n\n\n%s\n\n\n\n\n\n\nx-ms-date:%s\nx-ms-version:2021-08-06\n/%s%s%s" % (
        method, ctype, date, account, upath, canon)
    headers = {"x-ms-date": date, "x-ms-version": "2021-08-06",
               "Authorization": "SharedKey %s:%s" % (account, sign(sts))}
    if ctype:
        headers["Content-Type"] = ctype
    req = urllib.request.Request(url, method=method, data=b"" if method == "PUT" else None,
                                 headers=headers)
    return urllib.request.urlopen(req).read()


def listing(endpoint, account, name, prefix):
    marker = None
    while True:
        q = [("restype", "container"), ("comp", "list"), ("prefix", prefix)]
        if marker:
            q.append(("marker", marker))
        root = ET.fromstring(request("GET", endpoint, account, name, q))
        for b in root.iter("Blob"):
            print(b.findtext("Name"))
        marker = root.findtext("NextMarker")
        if not marker:
            break


def blocks(endpoint, account, name, blob):
    root = ET.fromstring(request("GET", endpoint, account, "%s/%s" % (name, blob),
                                 [("comp", "blocklist"), ("blocklisttype", "committed")]))
    print(len(root.findall("CommittedBlocks/Block")))


def uncommitted(endpoint, account, name, blob):
    print(count_uncommitted(endpoint, account, name, blob))  # 404: neither a blob nor blocks


def names(endpoint, account, name, prefix):
    q = [("restype", "container"), ("comp", "list"), ("prefix", prefix)]
    root = ET.fromstring(request("GET", endpoint, account, name, q))
    return [b.findtext("Name") for b in root.iter("Blob")]


def count_uncommitted(endpoint, account, name, blob):
    try:
        body = request("GET", endpoint, account, "%s/%s" % (name, blob),
                       [("comp", "blocklist"), ("blocklisttype", "uncommitted")])
    except urllib.error.HTTPError as e:
        if e.code == 404:
            return 0
        raise
    return len(ET.fromstring(body).findall("UncommittedBlocks/Block"))


def wait_blocks(endpoint, account, name, prefix):
    end = time.monotonic() + 10
    while time.monotonic() < end:
        for m in names(endpoint, account, name, prefix + "/tmp/uploads/"):
            try:
                key = request("GET", endpoint, account, "%s/%s" % (name, m), []).decode().split("\n")[0]
            except urllib.error.HTTPError:
                continue  # finished meanwhile
            blob = "%s/%s" % (prefix, key)
            if count_uncommitted(endpoint, account, name, blob) > 0:
                print(blob)
                return
        time.sleep(0.01)
    sys.exit("no upload under %s/tmp/uploads/ got a block within 10 s" % prefix)


def get(endpoint, account, name, blob):
    sys.stdout.write(request("GET", endpoint, account, "%s/%s" % (name, blob), []).decode())


def container(endpoint, account, name):
    url = "%s/%s?restype=container" % (endpoint, name)
    path = urllib.parse.urlsplit(url).path
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%a, %d %b %Y %H:%M:%S GMT")
    sts = "PUT\n\n\n\n\napplication/octet-stream\n\n\n\n\n\n\nx-ms-date:%s\nx-ms-version:2021-08-06\n/%s%s\nrestype:container" % (
        date, account, path)
    req = urllib.request.Request(url, method="PUT", data=b"", headers={
        "x-ms-date": date, "x-ms-version": "2021-08-06", "Content-Type": "application/octet-stream",
        "Authorization": "SharedKey %s:%s" % (account, sign(sts))})
    try:
        urllib.request.urlopen(req).read()
    except urllib.error.HTTPError as e:
        if e.code != 409:  # ContainerAlreadyExists
            sys.exit("creating container %s: HTTP %d %s" % (name, e.code, e.read()[:300]))


def sas(account, name, perms):
    now = datetime.datetime.now(datetime.timezone.utc)
    st = (now - datetime.timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    se = (now + datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    sv = "2018-11-09"
    sts = "\n".join([perms, st, se, "/blob/%s/%s" % (account, name), "", "", "", sv, "c", "",
                     "", "", "", "", ""])
    q = [("sv", sv), ("st", st), ("se", se), ("sr", "c"), ("sp", perms), ("sig", sign(sts))]
    print(urllib.parse.urlencode(q))


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "container":
        container(*sys.argv[2:])
    elif len(sys.argv) == 6 and sys.argv[1] == "blocks":
        blocks(*sys.argv[2:])
    elif len(sys.argv) == 6 and sys.argv[1] == "uncommitted":
        uncommitted(*sys.argv[2:])
    elif len(sys.argv) == 6 and sys.argv[1] == "wait-blocks":
        wait_blocks(*sys.argv[2:])
    elif len(sys.argv) == 6 and sys.argv[1] == "get":
        get(*sys.argv[2:])
    elif len(sys.argv) == 6 and sys.argv[1] == "list":
        listing(*sys.argv[2:])
    elif len(sys.argv) == 5 and sys.argv[1] == "sas":
        sas(*sys.argv[2:])
    else:
        sys.exit(__doc__)
