// fuel-soap (the official FuelSDK-Node SOAP client, callbacks) against the sandbox: create,
// perform, retrieve. SANDBOX_URL is the sandbox's auth base URL. fuel-soap takes a ready
// access token (auth.accessToken) and the SOAP endpoint (soapEndpoint) directly.
'use strict';
const assert = require('node:assert/strict');
const FuelSoap = require('fuel-soap');

const base = process.env.SANDBOX_URL;
assert.ok(base, 'SANDBOX_URL is not set');

function call(fn) {
    return new Promise((resolve, reject) => fn((err, res) => (err ? reject(err) : resolve(res))));
}

(async () => {
    const tokenResponse = await fetch(base + 'v2/token', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ grant_type: 'client_credentials', client_id: 'sandbox', client_secret: 'sandbox' }),
    });
    const token = await tokenResponse.json();
    const client = new FuelSoap({
        auth: { clientId: 'sandbox', clientSecret: 'sandbox', accessToken: token.access_token },
        soapEndpoint: token.soap_instance_url + 'Service.asmx',
    });

    const created = await call((cb) => client.create('List', { CustomerKey: 'fuel-soap-list', ListName: 'From fuel-soap' }, cb));
    assert.equal(created.body.OverallStatus, 'OK');
    assert.equal(created.body.Results[0].StatusCode, 'OK');

    // fuel-soap's perform always sends Action "start" with one definition
    const performed = await call((cb) => client.perform('QueryDefinition', { CustomerKey: 'active-subscribers-query' }, cb));
    assert.equal(performed.body.OverallStatus, 'OK');
    const result = performed.body.Results[0].Result;
    assert.equal(result.StatusMessage, 'QueryDefinition perform called successfully');
    const taskId = result.Task.ID;
    assert.match(taskId, /^\d+$/);

    const lists = await call((cb) => client.retrieve('List', ['ID', 'ListName'], {
        filter: { leftOperand: 'CustomerKey', operator: 'equals', rightOperand: 'fuel-soap-list' },
    }, cb));
    assert.equal(lists.body.OverallStatus, 'OK');
    assert.equal(lists.body.Results.length, 1);
    assert.equal(lists.body.Results[0].ListName, 'From fuel-soap');

    const status = await call((cb) => client.retrieve('AsyncActivityStatus', ['TaskID', 'Status'], {
        filter: { leftOperand: 'TaskID', operator: 'equals', rightOperand: taskId },
    }, cb));
    assert.equal(status.body.Results.length, 1);

    await assert.rejects(call((cb) => client.retrieve('list', ['ID'], cb)),
        /Unable to find a handler for object type/);

    // fuel-soap's own auth client (fuel-auth), OAuth 2 against the sandbox's /v2/token
    const oauthClient = new FuelSoap({
        auth: { clientId: 'sandbox', clientSecret: 'sandbox', authUrl: base + 'v2/token',
            authOptions: { authVersion: 2, applicationType: 'server' } },
        soapEndpoint: base + 'Service.asmx',
    });
    const viaOauth = await call((cb) => oauthClient.retrieve('SenderProfile', ['CustomerKey', 'FromName'], {
        filter: { leftOperand: 'CustomerKey', operator: 'equals', rightOperand: 'marketing-team' },
    }, cb));
    assert.equal(viaOauth.body.Results[0].FromName, 'Acme Marketing');

    console.log(`fuel-soap: create ok, perform ok (task ${taskId}), retrieve ok, fuel-auth OAuth 2 ok`);
})().catch((err) => {
    console.error('fuel-soap interop failed:', err && (err.stack || err.message), err && err.results ? JSON.stringify(err.results) : '');
    process.exit(1);
});
