#!/usr/bin/env node
/*
 * tests/net/s3rver.js - the S3 test server: s3rver (tests/node, from npm)
 * with what backstop's tests need and s3rver 3.7.1 does not do.
 *
 *   node --openssl-legacy-provider tests/net/s3rver.js DIR ADDRESS PORT BUCKET
 *
 * serves DIR (created if missing) on ADDRESS:PORT, with BUCKET created, and
 * the key pair S3RVER/S3RVER; logs nothing but errors.  The option is
 * needed: s3rver makes its ListObjectsV2 continuation tokens with DES, which
 * OpenSSL 3 keeps in its legacy provider; without it every listing of more
 * than 1,000 keys fails with HTTP 500 (so the launcher refuses to start).
 *
 * Added in front of s3rver's own middleware (everything else is s3rver's):
 *   - AWS Signature Version 4 in the Authorization header is verified
 *     (s3rver checks only the access key id: "Signature version 4
 *     calculation is unimplemeneted"), written from the AWS specification,
 *     so a client signing with a wrong secret, or signing a request other
 *     than the one it sends, gets 403 SignatureDoesNotMatch as from S3;
 *     a request time more than 15 minutes off is 403 RequestTimeTooSkewed.
 *     Requests without an Authorization header, with another scheme, or
 *     with an access key id s3rver does not know are left to s3rver
 *     (anonymous access allowed; InvalidAccessKeyId).
 *   - AbortMultipartUpload (DELETE /bucket/key?uploadId=X) and
 *     ListMultipartUploads (GET /bucket?uploads[&prefix=P]), which s3rver
 *     answers NotImplemented/MethodNotAllowed: a store without them leaves
 *     the parts of an abandoned upload on disk, and prune could not be
 *     tested to remove them.  No pagination (IsTruncated is always false).
 *   - DeleteObjects (POST /bucket?delete) with the Content-MD5 check, the
 *     Quiet mode and the 1,000-key limit of S3, deleting one key after the
 *     other (s3rver's own deletes them all at once, and its clean-up of empty
 *     directories then races with itself).
 */
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const { createRequire } = require('module');
const path = require('path');

const nodeRequire = createRequire(path.join(__dirname, '..', 'node', 'package.json'));
const S3rver = nodeRequire('s3rver');
const AWSAccount = nodeRequire('s3rver/lib/models/account');
const S3Error = nodeRequire('s3rver/lib/models/error');
const xmlParser = nodeRequire('fast-xml-parser');
const he = nodeRequire('he');

const XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/';
const MAX_SKEW_MS = 15 * 60 * 1000;

/* ---- Signature Version 4 ---- */

/* RFC 3986: every byte but A-Z a-z 0-9 - . _ ~ as %XY (upper-case hex). */
function uriEncode(s) {
	return encodeURIComponent(s).replace(/[!'()*]/g, c => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

function uriDecode(s) {
	try {
		return decodeURIComponent(s);
	} catch (e) {
		return s; /* a stray '%': taken as it came */
	}
}

const sha256hex = data => crypto.createHash('sha256').update(data).digest('hex');
const hmac = (key, data) => crypto.createHmac('sha256', key).update(data).digest();

/* The path as sent, each segment in its canonical encoding (S3 encodes the
 * path once: no normalisation of '.' or '//', no double encoding). */
function canonicalUri(rawPath) {
	return rawPath
		.split('/')
		.map(seg => uriEncode(uriDecode(seg)))
		.join('/');
}

/* name=value pairs of the raw query, encoded, sorted by name then value. */
function canonicalQuery(rawQuery) {
	if (!rawQuery) return '';
	return rawQuery
		.split('&')
		.filter(Boolean)
		.map(p => {
			const i = p.indexOf('=');
			const name = i < 0 ? p : p.slice(0, i);
			const value = i < 0 ? '' : p.slice(i + 1);
			return [uriEncode(uriDecode(name)), uriEncode(uriDecode(value))];
		})
		.sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0))
		.map(([n, v]) => `${n}=${v}`)
		.join('&');
}

/* Every value of a header (repeated ones joined by ','), trimmed, inner runs
 * of spaces collapsed. */
function canonicalHeaderValue(req, name) {
	const values = [];
	for (let i = 0; i < req.rawHeaders.length; i += 2)
		if (req.rawHeaders[i].toLowerCase() === name) values.push(req.rawHeaders[i + 1].trim().replace(/ +/g, ' '));
	return values.join(',');
}

function malformed(msg) {
	return new S3Error('AuthorizationHeaderMalformed', `The authorization header is malformed; ${msg}`);
}

async function verifySignatureV4(ctx, next) {
	const auth = ctx.get('authorization');
	if (!auth.startsWith('AWS4-HMAC-SHA256 ')) return next(); /* none, or not V4: s3rver's */
	const fields = {};
	for (const part of auth.slice('AWS4-HMAC-SHA256 '.length).split(',')) {
		const i = part.indexOf('=');
		if (i > 0) fields[part.slice(0, i).trim()] = part.slice(i + 1).trim();
	}
	const { Credential: credential, SignedHeaders: signedHeaders, Signature: signature } = fields;
	if (!credential || !signedHeaders || !signature) return next(); /* s3rver says which is missing */
	const [keyId, date, region, service, terminator, ...rest] = credential.split('/');
	const account = AWSAccount.registry.get(keyId);
	if (!account) return next(); /* s3rver: InvalidAccessKeyId */
	if (!region || service !== 's3' || terminator !== 'aws4_request' || rest.length)
		throw malformed(`the Credential is not <key>/<date>/<region>/s3/aws4_request: '${credential}'.`);

	const amzDate = ctx.get('x-amz-date');
	const when = /^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/.exec(amzDate);
	if (!when) throw new S3Error('AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header');
	if (date !== amzDate.slice(0, 8))
		throw malformed(`Invalid credential date "${date}". This date is not the same as X-Amz-Date: "${amzDate.slice(0, 8)}".`);
	const requestTime = Date.UTC(+when[1], +when[2] - 1, +when[3], +when[4], +when[5], +when[6]);
	if (Math.abs(Date.now() - requestTime) > MAX_SKEW_MS)
		throw new S3Error('RequestTimeTooSkewed', 'The difference between the request time and the current time is too large.', {
			RequestTime: amzDate,
			ServerTime: new Date().toISOString().replace(/\.\d+/, ''),
			MaxAllowedSkewMilliseconds: MAX_SKEW_MS,
		});
	const names = signedHeaders.split(';');
	if (!names.includes('host')) throw malformed("the SignedHeaders must include 'host'.");
	const payloadHash = ctx.get('x-amz-content-sha256');
	if (!payloadHash) throw new S3Error('InvalidRequest', 'Missing required header for this request: x-amz-content-sha256');

	const q = ctx.req.url.indexOf('?');
	const rawPath = q < 0 ? ctx.req.url : ctx.req.url.slice(0, q);
	const canonicalRequest = [
		ctx.req.method,
		canonicalUri(rawPath),
		canonicalQuery(q < 0 ? '' : ctx.req.url.slice(q + 1)),
		...names.map(n => `${n}:${canonicalHeaderValue(ctx.req, n)}`),
		'',
		signedHeaders,
		payloadHash,
	].join('\n');
	const scope = `${date}/${region}/s3/aws4_request`;
	const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256hex(canonicalRequest)].join('\n');
	let key = hmac('AWS4' + account.accessKeys.get(keyId), date);
	for (const part of [region, 's3', 'aws4_request']) key = hmac(key, part);
	const expected = Buffer.from(hmac(key, stringToSign).toString('hex'));
	const given = Buffer.from(signature);
	if (expected.length !== given.length || !crypto.timingSafeEqual(expected, given))
		throw new S3Error(
			'SignatureDoesNotMatch',
			'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
			{ AWSAccessKeyId: keyId, StringToSign: stringToSign, SignatureProvided: signature, CanonicalRequest: canonicalRequest },
		);
	ctx.state.signatureV4Verified = true;
	return next();
}

/* ---- the operations s3rver lacks ---- */

/* "/bucket/some/key" (after s3rver's vhost rewriting) -> [bucket, key] */
function bucketAndKey(ctx) {
	const p = ctx.path.slice(1);
	const i = p.indexOf('/');
	return i < 0 ? [uriDecode(p), ''] : [uriDecode(p.slice(0, i)), uriDecode(p.slice(i + 1))];
}

function uploadsDir(store, bucket) {
	return store.getResourcePath(bucket, undefined, 'uploads'); /* where initiateUpload puts them */
}

async function abortMultipartUpload(ctx, bucket, key) {
	const id = ctx.query.uploadId;
	const dir = path.join(uploadsDir(ctx.store, bucket), id);
	let uploadKey = null;
	if (/^[0-9a-f]+$/.test(id)) uploadKey = await fs.promises.readFile(path.join(dir, 'key'), 'utf8').catch(() => null);
	if (uploadKey !== key)
		throw new S3Error(
			'NoSuchUpload',
			'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
			{ UploadId: id },
		);
	await fs.promises.rm(dir, { recursive: true, force: true });
	ctx.status = 204;
}

async function listMultipartUploads(ctx, bucket) {
	const prefix = ctx.query.prefix || '';
	const root = uploadsDir(ctx.store, bucket);
	const ids = await fs.promises.readdir(root).catch(() => []);
	const uploads = [];
	for (const id of ids) {
		const key = await fs.promises.readFile(path.join(root, id, 'key'), 'utf8').catch(() => null);
		if (key === null || !key.startsWith(prefix)) continue; /* completed or aborted meanwhile */
		const st = await fs.promises.stat(path.join(root, id)).catch(() => null);
		if (st) uploads.push({ Key: key, UploadId: id, StorageClass: 'STANDARD', Initiated: st.birthtime.toISOString() });
	}
	uploads.sort((a, b) => (a.Key < b.Key ? -1 : a.Key > b.Key ? 1 : a.Initiated < b.Initiated ? -1 : 1));
	ctx.body = {
		ListMultipartUploadsResult: {
			'@': { xmlns: XMLNS },
			Bucket: bucket,
			KeyMarker: '',
			UploadIdMarker: '',
			Prefix: prefix,
			MaxUploads: 1000,
			IsTruncated: false,
			Upload: uploads,
		},
	};
}

async function deleteObjects(ctx, bucket) {
	const chunks = [];
	for await (const c of ctx.req) chunks.push(c);
	const body = Buffer.concat(chunks);
	const md5 = ctx.get('content-md5');
	if (md5) {
		const want = Buffer.from(md5, 'base64');
		if (want.length !== 16) throw new S3Error('InvalidDigest', 'The Content-MD5 you specified was invalid.');
		if (!want.equals(crypto.createHash('md5').update(body).digest()))
			throw new S3Error('BadDigest', 'The Content-MD5 you specified did not match what we received.', {
				ExpectedDigest: md5,
			});
	}
	const xml = body.toString('utf8');
	const doc = xmlParser.validate(xml) === true && xmlParser.parse(xml, { parseNodeValue: false, tagValueProcessor: a => he.decode(a) });
	const objects = doc && doc.Delete && doc.Delete.Object !== undefined ? [].concat(doc.Delete.Object) : [];
	if (!objects.length || objects.length > 1000 || objects.some(o => !o || typeof o.Key !== 'string'))
		throw new S3Error('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema.');
	const quiet = String(doc.Delete.Quiet).trim() === 'true';
	const deleted = [];
	const errors = [];
	for (const { Key: key } of objects) {
		try {
			if (await ctx.store.existsObject(bucket, key)) await ctx.store.deleteObject(bucket, key);
			if (!quiet) deleted.push({ Key: key });
		} catch (err) {
			errors.push({ Key: key, Code: 'InternalError', Message: String(err.message) });
		}
	}
	ctx.body = { DeleteResult: { '@': { xmlns: XMLNS }, Deleted: deleted, Error: errors } };
}

/* Runs after s3rver's vhost rewriting, just before its router. */
async function missingOperations(ctx, next) {
	const [bucket, key] = bucketAndKey(ctx);
	let op = null;
	if (ctx.method === 'DELETE' && key && 'uploadId' in ctx.query) op = abortMultipartUpload;
	else if (ctx.method === 'GET' && bucket && !key && 'uploads' in ctx.query) op = listMultipartUploads;
	else if (ctx.method === 'POST' && bucket && !key && 'delete' in ctx.query) op = deleteObjects;
	/* signed requests that were not verified here (unknown key, another
	 * scheme) go to s3rver, which refuses or answers as it does */
	if (!op || (ctx.get('authorization') && !ctx.state.signatureV4Verified)) return next();
	if (!(await ctx.store.getBucket(bucket)))
		throw new S3Error('NoSuchBucket', 'The specified bucket does not exist', { BucketName: bucket });
	return op(ctx, bucket, key);
}

/* ---- start ---- */

async function main() {
	const [directory, address, port, bucket] = process.argv.slice(2);
	if (!directory || !address || !port || !bucket) {
		process.stderr.write('usage: s3rver.js DIR ADDRESS PORT BUCKET\n');
		process.exit(2);
	}
	try {
		crypto.createCipheriv('des', Buffer.alloc(8), Buffer.alloc(8));
	} catch (e) {
		process.stderr.write('s3rver.js: DES is unavailable (s3rver lists more than 1,000 keys with it): run node with --openssl-legacy-provider\n');
		process.exit(2);
	}
	fs.mkdirSync(directory, { recursive: true });
	const app = new S3rver({ directory, address, port: Number(port), silent: true, configureBuckets: [{ name: bucket, configs: [] }] });
	/* s3rver's stack: logger, XML encoding, mount path, vhost, router; Koa
	 * composes app.middleware when run() listens */
	const router = app.middleware.length - 1;
	app.middleware.splice(router, 0, missingOperations);
	app.middleware.unshift(verifySignatureV4);
	const { port: bound } = await app.run();
	process.stdout.write(`s3rver (signature V4 checked) listening on ${address}:${bound}\n`);
	for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0)); /* nothing to flush */
}

main().catch(err => {
	process.stderr.write(`s3rver.js: ${err.stack || err}\n`);
	process.exit(1);
});
