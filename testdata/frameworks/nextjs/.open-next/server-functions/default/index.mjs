import NextServer from "next/dist/server/next-server.js";
export default NextServer;
