// Preloaded (node --require) into a CLI child by tests: requests for https://oauth2.googleapis.com go to
// the local stand-in named by FAKE_GOOGLE_OAUTH_HOST (host:port, plain HTTP), which speaks the part of
// Google's OAuth API the CLI uses (token refresh, tokeninfo). Nothing else is touched.
const http = require("node:http");
const https = require("node:https");

const target = process.env.FAKE_GOOGLE_OAUTH_HOST;
if (target) {
  const [hostname, port] = target.split(":");
  const original = https.request;
  https.request = function request(url, options, callback) {
    const u = typeof url === "string" ? new URL(url) : url instanceof URL ? url : null;
    if (u && u.hostname === "oauth2.googleapis.com") {
      const local = new URL(`http://${hostname}:${port}${u.pathname}${u.search}`);
      return http.request(local, options, callback);
    }
    return original.apply(this, arguments);
  };
}
