// Coop's GraphiQL: the explorer plugin, the headers editor, and the token typed there sent
// with every request, over HTTP as a header and over WebSocket in connection_init. Where
// reads need a token, the page opens the headers editor, asks for the token instead of
// sending requests bound to be refused, and loads the schema as soon as a token is typed.
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

  var element = document.getElementById("graphiql");
  var readsNeedToken = element.getAttribute("data-reads-need-token") === "true";
  var TOKEN_WANTED = {
    errors: [
      {
        message:
          "This service answers only requests that carry a token. Type it in the Headers" +
          ' tab below, as {"Authorization": "Bearer <token>"}: the schema loads as soon' +
          " as it is there.",
        extensions: { code: "UNAUTHENTICATED" },
      },
    ],
  };
  var SETTLE_MS = 400; // the headers must rest this long before the schema is asked again

  function authorizationOf(headers) {
    for (var name in headers || {}) {
      if (name.toLowerCase() === "authorization") return String(headers[name]);
    }
    return "";
  }

  function authorizationIn(text) {
    try {
      var headers = JSON.parse(text || "{}");
      return headers && typeof headers === "object" ? authorizationOf(headers) : null;
    } catch (error) {
      return null; // not JSON yet: still being typed
    }
  }

  function carriesToken(authorization) {
    return authorization.replace(/^\s*bearer\b\s*/i, "") !== "";
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
    var authorization = authorizationOf(options && options.headers);
    if (readsNeedToken && !carriesToken(authorization)) {
      return Promise.resolve(TOKEN_WANTED); // what the service would answer, unasked
    }
    return fetcherFor(authorization)(params, options);
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
    var schemaLoaded = React.useRef(false);
    var settling = React.useRef(null);
    // GraphiQL asks for the schema again whenever its fetcher changes: until the schema
    // has loaded, each authorization typed (once the headers rest) gets a fetcher of its own.
    var asked = React.useState(null);
    var schemaFetcher = React.useMemo(
      function () {
        return function (params, options) {
          return fetcher(params, options);
        };
      },
      [asked[0]],
    );
    var onEditHeaders = React.useCallback(function (text) {
      if (schemaLoaded.current) return;
      clearTimeout(settling.current);
      settling.current = setTimeout(function () {
        var authorization = authorizationIn(text);
        if (authorization !== null) asked[1](authorization);
      }, SETTLE_MS);
    }, []);
    // Stable: GraphiQL asks for the schema again when this callback changes, too.
    var onSchemaChange = React.useCallback(function () {
      schemaLoaded.current = true;
    }, []);
    return React.createElement(GraphiQL, {
      fetcher: schemaFetcher,
      onEditHeaders: onEditHeaders,
      onSchemaChange: onSchemaChange,
      plugins: [explorer],
      defaultQuery: EXAMPLE,
      query: parameters.get("q") || undefined,
      variables: parameters.get("variables") || undefined,
      onEditQuery: function (value) { remember("q", value); },
      onEditVariables: function (value) { remember("variables", value); },
      defaultEditorToolsVisibility: readsNeedToken ? "headers" : true,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: true,
      inputValueDeprecation: true,
    });
  }

  var root = ReactDOM.createRoot(element);
  root.render(React.createElement(CoopGraphiQL));
})();
