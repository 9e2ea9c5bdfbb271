export const dynamic = "force-dynamic";

export default function Home() {
  return (
    <main>
      <h1>Next.js on Workers</h1>
      <p>Rendered on the server at {new Date().toISOString()}.</p>
    </main>
  );
}
