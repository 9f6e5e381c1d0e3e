// Daily spend as an SVG bar chart drawn here (no chart library): one bar per day of the
// month, a dashed line at the daily budget when there is one, the day numbers below.
// Each bar carries a <title> with its day and amount; the chart as a whole has a text
// summary for screen readers.
import { svg } from './dom.js';
import { usd } from './money.js';

const WIDTH = 640;
const HEIGHT = 180;
const LEFT = 78;
const BOTTOM = 22;
const TOP = 16;

export function dailyChart(title: string, days: string[], amounts: number[], budget: number | null): SVGElement {
  const highest = Math.max(...amounts, budget ?? 0);
  const top = highest > 0 ? highest * 1.1 : 0.01;
  const plotHeight = HEIGHT - TOP - BOTTOM;
  const slot = (WIDTH - LEFT) / Math.max(days.length, 1);
  const y = (amount: number) => TOP + plotHeight - (amount / top) * plotHeight;
  const total = amounts.reduce((sum, amount) => sum + amount, 0);
  const label = `${title}: ${usd(total)} over ${days.length} days${budget === null ? '' : `, daily budget ${usd(budget)}`}`;
  const chart = svg('svg', { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: 'img', 'aria-label': label, class: 'chart' });
  chart.append(
    svg('line', { x1: LEFT, x2: WIDTH, y1: y(0), y2: y(0), class: 'axis' }),
    svg('text', { x: LEFT - 6, y: TOP + 4, class: 'tick', 'text-anchor': 'end' }, usd(top)),
    svg('text', { x: LEFT - 6, y: y(0), class: 'tick', 'text-anchor': 'end' }, '$0'),
  );
  days.forEach((day, i) => {
    const amount = amounts[i] ?? 0;
    const x = LEFT + i * slot;
    const bar = svg('rect', {
      x: x + slot * 0.15,
      y: y(amount),
      width: slot * 0.7,
      height: Math.max(y(0) - y(amount), 0),
      class: amount > (budget ?? Infinity) ? 'bar over' : 'bar',
    });
    bar.append(svg('title', {}, `${day}: ${usd(amount)}`));
    chart.append(bar);
    const dayNumber = Number(day.slice(8));
    if (dayNumber === 1 || dayNumber % 5 === 0)
      chart.append(
        svg('text', { x: x + slot / 2, y: HEIGHT - 4, class: 'tick', 'text-anchor': 'middle' }, String(dayNumber)),
      );
  });
  if (budget !== null) {
    chart.append(
      svg('line', { x1: LEFT, x2: WIDTH, y1: y(budget), y2: y(budget), class: 'budget' }),
      svg(
        'text',
        { x: WIDTH - 4, y: y(budget) - 4, class: 'tick budget-label', 'text-anchor': 'end' },
        `daily budget ${usd(budget)}`,
      ),
    );
  }
  return chart;
}
