// sfmc-sdk (the maintained Node client, ES module) against the sandbox: create, perform,
// retrieve. SANDBOX_URL is the sandbox's auth base URL ("http://127.0.0.1:PORT/").
// sfmc-sdk only accepts https://<28 chars>.auth.marketingcloudapis.com/ as auth_url, so the
// script fetches a token itself and pre-seeds access_token, soap_instance_url and a
// far-future expiration (the documented way to point it elsewhere).
import assert from 'node:assert/strict';
import SDK from 'sfmc-sdk';

const base = process.env.SANDBOX_URL;
assert.ok(base, 'SANDBOX_URL is not set');

const tokenResponse = await fetch(base + 'v2/token', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ grant_type: 'client_credentials', client_id: 'sandbox',
        client_secret: 'sandbox', account_id: 7281698 }),
});
assert.equal(tokenResponse.status, 200);
const token = await tokenResponse.json();
assert.equal(token.soap_instance_url, base);

const sdk = new SDK(
    {
        client_id: 'sandbox', client_secret: 'sandbox', account_id: 7281698,
        auth_url: 'https://mcabcdefghijklmnopqrstuvwxyz.auth.marketingcloudapis.com/',
        access_token: token.access_token, soap_instance_url: token.soap_instance_url,
        expiration: process.hrtime()[0] + 3600,
    },
    { requestAttempts: 1 }
);

const created = await sdk.soap.create('List', { CustomerKey: 'sfmc-sdk-list', ListName: 'From sfmc-sdk' });
assert.equal(created.OverallStatus, 'OK');
assert.equal(created.Results[0]?.StatusCode ?? created.Results.StatusCode, 'OK');

const performed = await sdk.soap.perform('EmailSendDefinition', 'start', { CustomerKey: 'spring-sale-send' });
assert.equal(performed.OverallStatus, 'OK');
// sfmc-sdk's parser keeps the Results wrapper: [{Result: {...}}]
const result = performed.Results[0].Result;
assert.equal(result.StatusMessage, 'EmailSendDefinition performed');
const sendId = String(result.Task.ID);
assert.match(sendId, /^\d+$/);

const sends = await sdk.soap.retrieve('Send', ['ID', 'Status', 'NumberTargeted'], {
    filter: { leftOperand: 'ID', operator: 'equals', rightOperand: sendId },
});
assert.equal(sends.OverallStatus, 'OK');
const send = Array.isArray(sends.Results) ? sends.Results[0] : sends.Results;
assert.equal(String(send.ID), sendId);
assert.equal(Number(send.NumberTargeted), 1250);

const lists = await sdk.soap.retrieve('List', ['ID', 'ListName'], {
    filter: { leftOperand: 'CustomerKey', operator: 'equals', rightOperand: 'sfmc-sdk-list' },
});
const list = Array.isArray(lists.Results) ? lists.Results[0] : lists.Results;
assert.equal(list.ListName, 'From sfmc-sdk');

// An unknown type: HTTP 200 with the handler error, which sfmc-sdk raises as an error.
await assert.rejects(sdk.soap.retrieve('list', ['ID']), /Unable to find a handler for object type: list/);

// Paging: retrieveBulk follows MoreDataAvailable with ContinueRequest.
const rows = await sdk.soap.retrieveBulk('DataExtensionObject[Customers]', ['CustomerID'], {
    options: { BatchSize: 15 },
});
assert.equal(rows.Results.length, 40);

console.log(`sfmc-sdk: create ok, perform ok (send ${sendId}), retrieve ok, paging ok`);
