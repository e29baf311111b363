import { mount } from "svelte";
import App from "./App.svelte";
import "./app.css";
import { pickBackend } from "./lib/backend";

const target = document.getElementById("app");
if (!target) throw new Error("#app missing from index.html");
const backend = await pickBackend();
mount(App, { target, props: { backend } });
