// A real JavaScript client against a running Coop: `graphql-ws` (graphql-transport-ws) or
// `subscriptions-transport-ws` (Apollo's legacy graphql-ws). Prints one JSON line per
// answer: the query's, the mutation's, then `count` subscription answers.
//
//   node node_client.mjs <library> <ws-url> <token> <count>
import WebSocket from "ws";

const [library, url, token, count] = process.argv.slice(2);
const connectionParams = { authorization: `Bearer ${token}` };
const QUERY = '{ partner(key: "tokyo") { name } }';
const MUTATION = `mutation { registerPartner(input: {key: "nodecity", name: "Node City",
  kind: CITY}) { partner { key } } }`;
const FEED = "subscription($after: Int) { partnerChanges(after: $after) { position type } }";

function print(value) {
  process.stdout.write(JSON.stringify(value) + "\n");
}

async function withGraphqlWs() {
  const { createClient } = await import("graphql-ws");
  const client = createClient({ url, webSocketImpl: WebSocket, connectionParams, lazy: true });
  const once = (query) =>
    new Promise((resolve, reject) => {
      let answer;
      client.subscribe({ query }, { next: (a) => (answer = a), error: reject, complete: () => resolve(answer) });
    });
  print(await once(QUERY));
  print(await once(MUTATION));
  const seen = [];
  await new Promise((resolve, reject) => {
    const stop = client.subscribe(
      { query: FEED, variables: { after: 0 } },
      {
        next: (a) => {
          // Answers already read from the socket may still arrive after stop().
          if (seen.length >= Number(count)) return;
          seen.push(a);
          if (seen.length >= Number(count)) { stop(); resolve(); }
        },
        error: reject,
        complete: resolve,
      },
    );
  });
  seen.forEach(print);
  await client.dispose();
}

async function withSubscriptionsTransportWs() {
  const { SubscriptionClient } = await import("subscriptions-transport-ws");
  const client = new SubscriptionClient(url, { connectionParams }, WebSocket);
  const once = (query, variables) =>
    new Promise((resolve, reject) => {
      let answer;
      client.request({ query, variables }).subscribe({
        next: (a) => (answer = a), error: reject, complete: () => resolve(answer),
      });
    });
  print(await once(QUERY));
  print(await once(MUTATION));
  const seen = [];
  await new Promise((resolve, reject) => {
    const subscription = client.request({ query: FEED, variables: { after: 0 } }).subscribe({
      next: (a) => {
        if (seen.length >= Number(count)) return;
        seen.push(a);
        if (seen.length >= Number(count)) { subscription.unsubscribe(); resolve(); }
      },
      error: reject,
    });
  });
  seen.forEach(print);
  client.close();
}

const run = library === "graphql-ws" ? withGraphqlWs : withSubscriptionsTransportWs;
run().then(
  () => process.exit(0),
  (error) => { print({ failed: String(error?.message ?? JSON.stringify(error)) }); process.exit(1); },
);
