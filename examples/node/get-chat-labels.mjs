// Get Chat Labels with fetch (Node 18+), as the provider page's samples do.
//
//   CHATLABELS_BASE_URL=http://127.0.0.1:8080 CHATLABELS_INSTANCE_ID=123456789 \
//   CHATLABELS_ACCESS_TOKEN=123456789 node examples/node/get-chat-labels.mjs 5511988887777@c.us
//
// Prints the chat's labels as JSON and whether the chat is VIP; exits 1 on an API error.

const baseUrl = (process.env.CHATLABELS_BASE_URL ?? "http://127.0.0.1:8080").replace(/\/$/, "");
const instanceId = process.env.CHATLABELS_INSTANCE_ID;
const accessToken = process.env.CHATLABELS_ACCESS_TOKEN;
const chatId = process.argv[2];

if (!instanceId || !accessToken || !chatId) {
  console.error(
    "usage: CHATLABELS_INSTANCE_ID=.. CHATLABELS_ACCESS_TOKEN=.. node get-chat-labels.mjs CHAT_ID",
  );
  process.exit(2);
}

async function getLabelsForChat(chat) {
  const url = new URL(`${baseUrl}/v2/labels/chats/${encodeURIComponent(chat)}`);
  url.searchParams.set("instance_id", instanceId);
  url.searchParams.set("access_token", accessToken);
  const response = await fetch(url);
  const body = await response.json();
  if (!response.ok) {
    // The provider's error body: {status, message, error}; it never contains the token.
    throw new Error(`${response.status} ${body.error}: ${body.message}`);
  }
  // Quirk: the provider's docs show {"0": {...}}; the contract is an array. Accept both.
  return Array.isArray(body) ? body : Object.values(body);
}

try {
  const labels = await getLabelsForChat(chatId);
  const isVIP = labels.some((l) => l.name === "VIP");
  console.log(JSON.stringify({ chatId, labels, isVIP }));
} catch (error) {
  console.error(`get-chat-labels: ${error.message}`);
  process.exit(1);
}
