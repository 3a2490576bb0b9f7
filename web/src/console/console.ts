export async function consolePage(root: HTMLElement): Promise<void> {
  root.textContent = 'console';
}
