// Coop's GraphiQL: the explorer plugin, the headers editor, and the token typed there sent
// with every request, over HTTP as a header and over WebSocket in connection_init.
(function () {
  "use strict";

  var EXAMPLE = [
    "# Which networks was Tokyo in on 2008-01-01, and which roles did it hold?",
    "# Writes need a token: add it in the Headers tab below, as",
    '#   {"Authorization": "Bearer <token>"}',
    "# Subscriptions send the same token when their WebSocket connects.",
    "{",
    '  partner(key: "tokyo", asOf: "2008-01-01") {',
    "    name",
    "    memberships { nodes { network { key name } since until certain } }",
    "    roles { nodes { title holderTitle heldAsOf certain network { key } } }",
    "  }",
    "}",
    "",
  ].join("\n");

  var url = window.location.href.split("#")[0].split("?")[0];
  var subscriptionUrl = url.replace(/^http/, "ws");
  var parameters = new URLSearchParams(window.location.search);

  function authorizationOf(headers) {
    for (var name in headers || {}) {
      if (name.toLowerCase() === "authorization") return String(headers[name]);
    }
    return "";
  }

  // One fetcher per token: a WebSocket sends its connection_init once, so a new token
  // needs a new connection.
  var fetchers = {};
  function fetcherFor(authorization) {
    if (!fetchers[authorization]) {
      fetchers[authorization] = GraphiQL.createFetcher({
        url: url,
        subscriptionUrl: subscriptionUrl,
        wsConnectionParams: authorization ? { authorization: authorization } : {},
      });
    }
    return fetchers[authorization];
  }

  function fetcher(params, options) {
    return fetcherFor(authorizationOf(options && options.headers))(params, options);
  }

  function remember(name, value) {
    if (value) parameters.set(name, value);
    else parameters.delete(name);
    var search = parameters.toString();
    history.replaceState(null, "", search ? "?" + search : window.location.pathname);
  }

  function CoopGraphiQL() {
    var explorer = React.useMemo(function () {
      return GraphiQLPluginExplorer.explorerPlugin();
    }, []);
    return React.createElement(GraphiQL, {
      fetcher: fetcher,
      plugins: [explorer],
      defaultQuery: EXAMPLE,
      query: parameters.get("q") || undefined,
      variables: parameters.get("variables") || undefined,
      onEditQuery: function (value) { remember("q", value); },
      onEditVariables: function (value) { remember("variables", value); },
      defaultEditorToolsVisibility: true,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: true,
      inputValueDeprecation: true,
    });
  }

  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(React.createElement(CoopGraphiQL));
})();
