export async function partyPage(root: HTMLElement, code: string): Promise<void> {
  root.textContent = code;
}
