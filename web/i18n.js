// Words of the page in simplified Chinese (default) and English. Numbers are never here:
// every number on the page comes from an API answer and is only formatted. Status, kind and
// budget-line labels and place names come from GET /api/meta (setMeta). Times are shown in
// the data set's time zone (`time_zone` of /api/meta, Asia/Shanghai by default).

import { FIELD_STRINGS } from './i18n-field.js';

const STRINGS = {
  zh: {
    title: '皇姑区城市更新地图',
    lang_switch: 'English',
    tab_progress: '进度',
    tab_filters: '筛选',
    tab_parks: '附近公园',
    tab_mine: '我的工地',
    sign_in: '登录',
    sign_out: '退出',
    token_label: '现场班组令牌',
    token_hint: '由管理员用 renewal-map token add 生成',
    sign_in_submit: '登录',
    cancel: '取消',
    signed_in_as: '已登录',
    sign_in_failed: '登录失败',
    loading: '加载中…',
    legend: '图例',
    legend_late: '逾期（超过计划完工日期未完成）',
    filter_kind: '类型',
    filter_status: '状态',
    filter_subdistrict: '街道',
    all_subdistricts: '全部街道',
    filter_late: '只看逾期',
    filter_reset: '重置筛选',
    progress_as_of: '统计日期',
    progress_targets: '完成情况（完成/目标）',
    progress_investment: '投资（万元）',
    investment_total: '计划投资',
    investment_done: '已完成投资',
    programme_target: '预算',
    projects: '项目',
    progress_sub: '各街道',
    sites: '工地',
    completed: '完成',
    late: '逾期',
    mean_progress: '平均进度',
    park_access: '口袋公园覆盖',
    compounds_share: '小区',
    households_share: '户数',
    open_parks: '已开放公园',
    parks_intro: '查找离你最近的已开放口袋公园。',
    parks_locate: '用我的位置',
    parks_pick: '在地图上点选',
    parks_pick_hint: '请在地图上点一个位置',
    parks_open: '已开放',
    parks_building: '建设中的公园',
    parks_opens: '预计 {d} 开放',
    parks_none: '附近没有已开放的公园',
    parks_geo_failed: '无法获取位置：{m}。请在地图上点选。',
    distance: '直线距离',
    mine_search: '按名称搜索',
    mine_none: '没有匹配的工地',
    mine_sign_in: '登录后查看本班组负责的工地。',
    close: '关闭',
    field_id: '编号',
    field_name: '名称',
    field_kind: '类型',
    field_status: '状态',
    field_progress: '进度',
    field_late: '逾期',
    field_subdistrict: '街道',
    field_investment_wan: '投资（万元）',
    field_programme: '资金渠道',
    field_project_id: '项目编号',
    field_planned_start: '计划开工',
    field_planned_finish: '计划完工',
    field_updated_at: '更新时间',
    field_version: '版本',
    field_note: '备注',
    field_area_m2: '面积（平方米）',
    field_length_m: '长度（米）',
    field_open: '已开放',
    field_households: '户数',
    field_built_year: '建成年份',
    field_community: '社区',
    field_geometry_basis: '图形来源',
    yes: '是',
    no: '否',
    history: '更新记录',
    history_none: '暂无更新记录',
    history_unavailable: '更新记录暂不可用',
    update: '更新进度',
    update_note: '备注',
    update_reason: '原因',
    update_reason_required: '原因（回退、恢复或调低进度时必填）',
    update_nothing: '没有要提交的修改',
    note_cleared: '清除备注',
    admin_no_edit: '管理员负责管理账号，不编辑工地。',
    remember_device: '在这台设备上记住我（公用手机请勿勾选）',
    update_submit: '提交',
    update_saved: '已保存',
    update_failed: '提交失败',
    conflict_title: '这个工地刚被别人更新过',
    conflict_theirs: '最新：',
    conflict_yours: '你的修改：',
    conflict_retry: '在最新版本上重新提交',
    conflict_discard: '放弃我的修改',
    by: '由',
    site_missing: '找不到这个工地',
    network_error: '网络错误',
    programme_construction: '建设类',
    programme_maintenance: '维护类',
    straight_line: '直线距离',
    walk_distance: '步行距离',
    walk_fmt: '步行 {d} · 约 {m} 分钟',
    walk_straight: '直线 {d}',
    walk_illustrative: '按示意路网计算',
    resident_card_hint_walk: '步行距离沿街道网络计算，时间按每分钟 {v} 米估算。',
    notice_title: '数据说明',
    basis_illustrative: '示意',
    basis_estimated: '估计',
    basis_imported: '导入',
    basis_real: '实际',
    card_basis: '数据依据',
    card_basis_geometry: '图形',
    legend_toggle: '图例',
    legend_shown: '当前显示',
    legend_late_ring: '逾期：黑色虚线外圈',
    legend_progress_label: '进度见标签和卡片（不以深浅表示）',
    legend_boundary_illustrative: '示意街道边界（虚线）',
    selection_title: '筛选结果',
    selection_sites: '显示工地',
    selection_done: '已完成',
    selection_late: '逾期',
    selection_investment: '投资（万元）',
    zoom_to_selection: '缩放到筛选结果',
    visible_sites: '地图上的工地',
    visible_none: '当前视野内没有工地',
    parks_late: '逾期：原计划 {d} 开放',
    parks_open_since: '已开放（状态更新于 {d}）',
    park_size: '面积',
    navigate: '导航',
    nav_amap: '高德地图',
    nav_baidu: '百度地图',
    resident_card_hint: '到公园的直线距离，实际步行路线可能更长。',
    updated_now: '刚刚更新',
    live_label: '实时',
    export_csv: '导出 CSV',
    export_xlsx: '导出 Excel',
    print: '打印报告',
    as_of_label: '查看日期',
    as_of_now: '现在',
    timeline_title: '完成进度随时间',
    timeline_target: '目标',
    timeline_done: '已完成',
    print_date: '打印日期',
    within_m: '直线 {r} 米内',
  },
  en: {
    title: 'Huanggu urban renewal map',
    lang_switch: '中文',
    tab_progress: 'Progress',
    tab_filters: 'Filters',
    tab_parks: 'Parks near me',
    tab_mine: 'My sites',
    sign_in: 'Sign in',
    sign_out: 'Sign out',
    token_label: 'Field team token',
    token_hint: 'Made by an administrator with renewal-map token add',
    sign_in_submit: 'Sign in',
    cancel: 'Cancel',
    signed_in_as: 'Signed in',
    sign_in_failed: 'Sign-in failed',
    loading: 'Loading…',
    legend: 'Legend',
    legend_late: 'Late (past planned finish, not done)',
    filter_kind: 'Kind',
    filter_status: 'Status',
    filter_subdistrict: 'Sub-district',
    all_subdistricts: 'All sub-districts',
    filter_late: 'Late sites only',
    filter_reset: 'Reset filters',
    progress_as_of: 'As of',
    progress_targets: 'Done vs target',
    progress_investment: 'Investment (10k CNY)',
    investment_total: 'Budgeted',
    investment_done: 'Completed',
    programme_target: 'budget',
    projects: 'projects',
    progress_sub: 'By sub-district',
    sites: 'sites',
    completed: 'done',
    late: 'late',
    mean_progress: 'mean progress',
    park_access: 'Pocket park access',
    compounds_share: 'compounds',
    households_share: 'households',
    open_parks: 'open parks',
    parks_intro: 'Find the open pocket parks nearest to you.',
    parks_locate: 'Use my location',
    parks_pick: 'Pick on the map',
    parks_pick_hint: 'Tap a place on the map',
    parks_open: 'Open',
    parks_building: 'Parks being built',
    parks_opens: 'opens {d}',
    parks_none: 'No open park nearby',
    parks_geo_failed: 'Could not get your location: {m}. Pick a place on the map.',
    distance: 'straight-line distance',
    mine_search: 'Search by name',
    mine_none: 'No matching site',
    mine_sign_in: 'Sign in to see the sites of your team.',
    close: 'Close',
    field_id: 'ID',
    field_name: 'Name',
    field_kind: 'Kind',
    field_status: 'Status',
    field_progress: 'Progress',
    field_late: 'Late',
    field_subdistrict: 'Sub-district',
    field_investment_wan: 'Investment (10k CNY)',
    field_programme: 'Budget line',
    field_project_id: 'Project',
    field_planned_start: 'Planned start',
    field_planned_finish: 'Planned finish',
    field_updated_at: 'Updated',
    field_version: 'Version',
    field_note: 'Note',
    field_area_m2: 'Area (m²)',
    field_length_m: 'Length (m)',
    field_open: 'Open',
    field_households: 'Households',
    field_built_year: 'Built',
    field_community: 'Community',
    field_geometry_basis: 'Geometry',
    yes: 'yes',
    no: 'no',
    history: 'History',
    history_none: 'No updates yet',
    history_unavailable: 'History is not available',
    update: 'Update progress',
    update_note: 'Note',
    update_reason: 'Reason',
    update_reason_required: 'Reason (required to go back, resume or lower progress)',
    update_nothing: 'Nothing to change',
    note_cleared: 'note cleared',
    admin_no_edit: 'Admins manage accounts and do not edit sites.',
    remember_device: 'Remember me on this device (not on a shared phone)',
    update_submit: 'Save',
    update_saved: 'Saved',
    update_failed: 'Update failed',
    conflict_title: 'Someone else updated this site just now',
    conflict_theirs: 'Now: ',
    conflict_yours: 'Your change: ',
    conflict_retry: 'Apply my change to the latest version',
    conflict_discard: 'Discard my change',
    by: 'by',
    site_missing: 'No such site',
    network_error: 'Network error',
    programme_construction: 'Construction',
    programme_maintenance: 'Maintenance',
    straight_line: 'straight-line',
    walk_distance: 'walking distance',
    walk_fmt: 'walk {d} · about {m} min',
    walk_straight: 'straight-line {d}',
    walk_illustrative: 'over the illustrative street network',
    resident_card_hint_walk: 'Walking distance along the street network; time at {v} m per minute.',
    notice_title: 'About this data',
    basis_illustrative: 'illustrative',
    basis_estimated: 'estimated',
    basis_imported: 'imported',
    basis_real: 'real',
    card_basis: 'Basis of these figures',
    card_basis_geometry: 'shape',
    legend_toggle: 'Legend',
    legend_shown: 'shown',
    legend_late_ring: 'Late: dashed black ring',
    legend_progress_label: 'Progress is in labels and the card (not shading)',
    legend_boundary_illustrative: 'Illustrative sub-district boundary (dashed)',
    selection_title: 'Selection',
    selection_sites: 'Sites shown',
    selection_done: 'Done',
    selection_late: 'Late',
    selection_investment: 'Investment (10k CNY)',
    zoom_to_selection: 'Zoom to selection',
    visible_sites: 'Sites on the map',
    visible_none: 'No site in view',
    parks_late: 'Late: was to open {d}',
    parks_open_since: 'Open (status updated {d})',
    park_size: 'Size',
    navigate: 'Directions',
    nav_amap: 'AMap',
    nav_baidu: 'Baidu Maps',
    resident_card_hint: 'Straight-line distance to the park; the walk may be longer.',
    updated_now: 'updated just now',
    live_label: 'live',
    export_csv: 'Export CSV',
    export_xlsx: 'Export Excel',
    print: 'Print report',
    as_of_label: 'Show as of',
    as_of_now: 'now',
    timeline_title: 'Completed over time',
    timeline_target: 'target',
    timeline_done: 'done',
    print_date: 'Printed',
    within_m: 'within {r} m (straight line)',
  },
};

for (const l of ['zh', 'en']) Object.assign(STRINGS[l], FIELD_STRINGS[l]);

/** Labels and place names from GET /api/meta (the server owns them; nothing is copied here). */
let meta = null;

/** Installs the answer of GET /api/meta. */
export function setMeta(m) {
  meta = m;
}

let current = 'zh';

/** The language in use: 'zh' or 'en'. */
export function lang() {
  return current;
}

/** Switches the language (unknown values fall back to Chinese). */
export function setLang(l) {
  current = l === 'en' ? 'en' : 'zh';
  document.documentElement.lang = current === 'en' ? 'en' : 'zh-Hans';
}

/** The string for `key`, with `{name}` placeholders filled from `vars`. */
export function t(key, vars = {}) {
  const s = STRINGS[current][key] ?? STRINGS.zh[key] ?? key;
  return s.replace(/\{(\w+)\}/g, (_, k) => String(vars[k] ?? ''));
}

function label(list, id) {
  const item = list?.find((x) => x.id === id);
  return item ? item.label[current] ?? item.label.zh : String(id ?? '–');
}

/** Label of a renewal status (from the server); unknown statuses are shown as sent. */
export function statusLabel(s) {
  return label(meta?.statuses, s);
}

/** Label of a kind of site (from the server). */
export function kindLabel(k) {
  return label(meta?.kinds, k);
}

/** Label of a budget line (from the server). */
export function programmeLabel(p) {
  return label(meta?.programmes, p);
}

/**
 * A place name in the page's language: sub-districts and the district by their English name
 * from the data set; any other name as it is.
 */
export function placeName(name) {
  if (current !== 'en' || !meta || name == null) return name ?? '–';
  if (name === meta.district?.name) return meta.district.name_en ?? name;
  const sub = meta.subdistricts?.find((s) => s.name === name || s.code === name);
  return sub?.name_en ?? name;
}

/**
 * A site's name in the page's language: its English name (pinyin) from the data set when the
 * page is in English and the site has one, else its Chinese name.
 */
export function siteName(props) {
  if (!props) return '–';
  return (current === 'en' && props.name_en) || props.name || props.id || '–';
}

/** The data set's notice in the page's language, or null when it has none. */
export function notice() {
  const n = meta?.provenance?.notice;
  return n ? n[current] ?? n.zh : null;
}

/** Formats an ISO date (YYYY-MM-DD) for the current language. */
export function date(iso) {
  if (!iso) return '–';
  const d = new Date(`${String(iso).slice(0, 10)}T00:00:00Z`);
  if (Number.isNaN(d.getTime())) return String(iso);
  return new Intl.DateTimeFormat(current === 'en' ? 'en-GB' : 'zh-CN', { dateStyle: 'medium', timeZone: 'UTC' }).format(d);
}

/** The zone times are shown in when the server names none (or one this browser lacks). */
export const DEFAULT_TIME_ZONE = 'Asia/Shanghai';

/** The data set's time zone, as the server gives it, if this browser knows it. */
export function timeZone() {
  const tz = meta?.time_zone;
  if (!tz) return DEFAULT_TIME_ZONE;
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return tz;
  } catch {
    return DEFAULT_TIME_ZONE;
  }
}

/** Formats an RFC 3339 instant (any offset) as date and time in the data set's time zone. */
export function dateTime(iso) {
  if (!iso) return '–';
  const d = new Date(String(iso));
  if (Number.isNaN(d.getTime())) return String(iso);
  return new Intl.DateTimeFormat(current === 'en' ? 'en-GB' : 'zh-CN', {
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
    timeZone: timeZone(),
  }).format(d);
}

/** The name of an account's role in the page's language. */
export function roleLabel(role) {
  const key = `role_${role}`;
  const s = t(key);
  return s === key ? String(role ?? '') : s;
}

/** A size in bytes as KB or MB. */
export function bytes(n) {
  return n >= 1024 * 1024 ? t('size_mb', { n: num(n / 1024 / 1024, 1) }) : t('size_kb', { n: num(n / 1024, 0) });
}

/** Formats a number from an API answer for the current language. */
export function num(v, digits = 1) {
  if (typeof v !== 'number' || !Number.isFinite(v)) return String(v ?? '–');
  return new Intl.NumberFormat(current === 'en' ? 'en-GB' : 'zh-CN', { maximumFractionDigits: digits }).format(v);
}

/** Formats a distance in metres from an API answer. */
export function metres(v) {
  return current === 'en' ? `${num(v, 0)} m` : `${num(v, 0)} 米`;
}

/** A straight-line distance, labelled as such (for places the walking network does not reach). */
export function straightLine(v) {
  return `${t('straight_line')} ${metres(v)}`;
}

/**
 * The distance to a park as the API measured it: walking distance and minutes over the street
 * network when it has them (`walk_m`, `walk_min`), else the straight line, labelled as such.
 */
export function parkDistance(p) {
  if (p?.walk_m == null) return straightLine(p?.distance_m);
  return t('walk_fmt', { d: metres(p.walk_m), m: num(p.walk_min ?? p.walk_m / 60, 0) });
}

/** Whether the walking network is built from illustrative streets (the manifest says so). */
export function walkNetworkIllustrative() {
  return meta?.provenance?.layers?.streets?.geometry === 'illustrative';
}
