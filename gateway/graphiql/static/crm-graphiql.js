// GraphiQL for the CRM gateway: a sign-in bar above GraphiQL (email and password, then the
// two-factor code when the account asks for one, or a pasted token). The token lives in
// sessionStorage (gone when the tab closes) and every request carries it as
// "Authorization: Bearer". Signed out, GraphiQL asks for no schema (introspection answers
// signed-in callers only); on sign-in it gets a new fetcher, so it loads the caller's view
// at once, and the Docs panel opens.
// Loaded from the gateway itself under a Content-Security-Policy of 'self': no inline code.
(function () {
  "use strict";

  var TOKEN_KEY = "crm-gateway.token";
  var WHO_KEY = "crm-gateway.who";
  var endpoint = window.location.pathname;
  var bar = document.getElementById("crm-session");
  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  var challenge = null; // the second step of a two-factor sign-in
  var docsPending = false; // signed in: show the Docs panel when the schema arrives
  var lastEmail = ""; // kept when the bar is drawn again (a wrong password)
  var explorer = GraphiQLPluginExplorer.explorerPlugin();

  var DEFAULT_QUERY = [
    "# Sign in above, then run this: ▶ or Ctrl-Enter.",
    "# Docs (the book icon) lists what your profile may use.",
    "{",
    "  contacts(first: 20, orderBy: {field: NAME}) {",
    "    totalCount",
    "    edges { node { displayName owner { email } } }",
    "  }",
    "}",
    "",
  ].join("\n");

  var PAYLOAD =
    "token viewer { user { email } tenant { slug } profile { name } } " +
    "twoFactorRequired challenge errors { code message }";

  function storedToken() {
    return window.sessionStorage.getItem(TOKEN_KEY);
  }

  function el(tag, attributes, children) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) {
      if (name === "text") node.textContent = attributes[name];
      else node.setAttribute(name, attributes[name]);
    });
    (children || []).forEach(function (child) {
      node.appendChild(child);
    });
    return node;
  }

  function hasHeader(headers, name) {
    return Object.keys(headers || {}).some(function (key) {
      return key.toLowerCase() === name;
    });
  }

  function unauthenticated(result) {
    return (result.errors || []).some(function (error) {
      return error.extensions && error.extensions.code === "UNAUTHENTICATED";
    });
  }

  async function post(body, headers) {
    var response = await fetch(endpoint, {
      method: "POST",
      headers: Object.assign(
        { "content-type": "application/json", accept: "application/json" },
        headers
      ),
      body: JSON.stringify(body),
    });
    return response.json();
  }

  // GraphiQL's fetcher: the signed-in token unless the headers pane sets its own.
  async function fetcher(params, options) {
    var token = storedToken();
    var own = Object.assign({}, options && options.headers);
    var sent = !hasHeader(own, "authorization") && token;
    if (sent) own.authorization = "Bearer " + token;
    var result = await post(params, own);
    if (docsPending && result.data && result.data.__schema) {
      docsPending = false;
      window.setTimeout(openDocs, 0, 40);
    }
    if (sent && unauthenticated(result)) {
      // Expired or revoked: back to the sign-in bar, with the gateway's own words.
      signOut(result.errors[0].message, false);
    }
    return result;
  }

  // Just signed in: once the schema is in, open the Docs panel as its sidebar button does.
  function openDocs(triesLeft) {
    var show = document.querySelector('button[aria-label="Show Documentation Explorer"]');
    if (show) show.click();
    else if (triesLeft > 0) window.setTimeout(openDocs, 50, triesLeft - 1);
  }

  // message: shown in the bar, as a problem unless kind says "info".
  function render(message, kind) {
    var token = storedToken();
    renderBar(token, message, kind);
    var props = {
      // A new fetcher for each token: GraphiQL introspects again when its fetcher changes.
      fetcher: function (params, options) {
        return fetcher(params, options);
      },
      defaultQuery: DEFAULT_QUERY,
      defaultEditorToolsVisibility: true,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: false,
      // Tabs, queries and their results (CRM data) last as long as the tab, like the token.
      storage: window.sessionStorage,
      plugins: [explorer],
    };
    if (!token) {
      // Signed out there is no schema to read: no introspection, so no wall of errors.
      props.schema = null;
    }
    root.render(React.createElement(GraphiQL, props));
  }

  function say(text, kind) {
    return el("span", { class: "crm-message crm-" + (kind || "info"), role: "status", text: text });
  }

  function renderBar(token, message, kind) {
    bar.replaceChildren();
    if (token) {
      var who = JSON.parse(window.sessionStorage.getItem(WHO_KEY) || "null");
      var label = who
        ? "Signed in as " + who.email + " (" + who.tenant + ", " + who.profile + ")"
        : "Using the token you pasted";
      var out = el("button", { type: "button", id: "crm-sign-out", text: "Sign out" });
      out.addEventListener("click", function () {
        signOut("Signed out.", true, "info");
      });
      bar.append(el("span", { id: "crm-who", text: label }), out);
      if (message) bar.append(say(message));
      return;
    }
    if (challenge) {
      bar.append(twoFactorForm());
    } else {
      bar.append(signInForm(), tokenForm());
    }
    bar.append(
      say(
        message ||
          "Sign in to read the schema: the Docs panel shows each signed-in user the " +
            "fields their profile may use.",
        kind || (message ? "problem" : "info")
      )
    );
  }

  function signInForm() {
    var email = el("input", {
      type: "email", id: "crm-email", name: "email", placeholder: "email",
      autocomplete: "username", required: "",
    });
    email.value = lastEmail;
    var password = el("input", {
      type: "password", id: "crm-password", name: "password", placeholder: "password",
      autocomplete: "current-password", required: "",
    });
    var form = el("form", { id: "crm-sign-in", "aria-label": "Sign in" }, [
      email, password, el("button", { type: "submit", text: "Sign in" }),
    ]);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      lastEmail = email.value;
      var query = "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { " +
        PAYLOAD + " } }";
      finish(post({ query: query, variables: { e: email.value, p: password.value } }), "login");
    });
    return form;
  }

  function twoFactorForm() {
    var code = el("input", {
      id: "crm-code", name: "code", placeholder: "6-digit code", inputmode: "numeric",
      autocomplete: "one-time-code", required: "",
    });
    var cancel = el("button", { type: "button", text: "Cancel" });
    cancel.addEventListener("click", function () {
      challenge = null;
      render();
    });
    var form = el("form", { id: "crm-two-factor", "aria-label": "Two-factor code" }, [
      el("label", { for: "crm-code", text: "Code from your authenticator app:" }),
      code, el("button", { type: "submit", text: "Verify" }), cancel,
    ]);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var query = "mutation($c: String!, $k: String!) { verifyTwoFactor(challenge: $c, " +
        "code: $k) { " + PAYLOAD + " } }";
      finish(post({ query: query, variables: { c: challenge, k: code.value } }), "verifyTwoFactor");
    });
    return form;
  }

  function tokenForm() {
    var token = el("input", {
      id: "crm-token", name: "token", placeholder: "or paste a token", autocomplete: "off",
      title: "A token from the login mutation (its `token` field), sent as " +
        "Authorization: Bearer <token>", required: "",
    });
    var form = el("form", { id: "crm-use-token", "aria-label": "Use a token" }, [
      token, el("button", { type: "submit", text: "Use token" }),
    ]);
    form.addEventListener("submit", async function (event) {
      event.preventDefault();
      var value = token.value.trim().replace(/^bearer\s+/i, "");
      var me = "{ me { user { email } tenant { slug } profile { name } } }";
      var result;
      try {
        result = await post({ query: me }, { authorization: "Bearer " + value });
      } catch (error) {
        render("The gateway did not answer: " + error.message);
        return;
      }
      if (result.errors && result.errors.length) {
        render(result.errors[0].message);
        return;
      }
      keep(value, result.data.me);
    });
    return form;
  }

  async function finish(pending, field) {
    var result;
    try {
      result = await pending;
    } catch (error) {
      render("The gateway did not answer: " + error.message);
      return;
    }
    if (result.errors && result.errors.length) {
      render(result.errors[0].message);
      return;
    }
    var payload = result.data[field];
    if (payload.errors.length) {
      render(payload.errors[0].message);
    } else if (payload.twoFactorRequired) {
      challenge = payload.challenge;
      render("Two-factor authentication is on for this account: enter the current code.", "info");
    } else {
      challenge = null;
      keep(payload.token, payload.viewer);
    }
  }

  function keep(token, viewer) {
    window.sessionStorage.setItem(TOKEN_KEY, token);
    window.sessionStorage.setItem(
      WHO_KEY,
      JSON.stringify({
        email: viewer.user.email,
        tenant: viewer.tenant.slug,
        profile: viewer.profile.name,
      })
    );
    docsPending = true;
    render();
  }

  function signOut(message, revoke, kind) {
    var token = storedToken();
    window.sessionStorage.removeItem(TOKEN_KEY);
    window.sessionStorage.removeItem(WHO_KEY);
    if (revoke && token) {
      post({ query: "mutation { logout { ok } }" }, { authorization: "Bearer " + token });
    }
    render(message, kind);
  }

  render();
})();
