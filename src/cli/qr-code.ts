// A QR code drawn with Unicode half blocks, two module rows per text line. The light
// modules and the quiet zone are the drawn characters, so it scans on the usual
// light-on-dark terminal (the way `qrencode -t UTF8` does it).
import qrcode from 'qrcode-generator';

const quietZone = 2;

export function terminalQrCode(text: string): string {
  const code = qrcode(0, 'M');
  code.addData(text, 'Byte');
  code.make();
  const size = code.getModuleCount();
  const light = (row: number, column: number) =>
    row < 0 || column < 0 || row >= size || column >= size || !code.isDark(row, column);
  const lines: string[] = [];
  for (let row = -quietZone; row < size + quietZone; row += 2) {
    let line = '';
    for (let column = -quietZone; column < size + quietZone; column++) {
      const top = light(row, column);
      const bottom = light(row + 1, column);
      line += top && bottom ? '█' : top ? '▀' : bottom ? '▄' : ' ';
    }
    lines.push(line);
  }
  return lines.join('\n') + '\n';
}
