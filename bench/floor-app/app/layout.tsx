// The app's own root layout, so the floor renders the page's markup around it.
export { default, metadata } from "@/app/layout.tsx";
