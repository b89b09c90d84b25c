// Words of the page in simplified Chinese (default) and English. Numbers are never here:
// every number on the page comes from an API answer and is only formatted.

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
    legend_progress: '颜色越深，进度越高',
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
    within_m: '步行 {r} 米内',
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
    distance: '距离',
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
    update_reason: '原因（暂停或回退时必填）',
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
    legend_progress: 'Darker means further along',
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
    within_m: 'within {r} m walk',
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
    distance: 'distance',
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
    update_reason: 'Reason (required to suspend or go back)',
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
  },
};

const STATUS = {
  planned: ['计划', 'Planned'],
  design: ['设计', 'Design'],
  tendering: ['招标', 'Tendering'],
  under_construction: ['施工中', 'Under construction'],
  completed: ['已完工', 'Completed'],
  accepted: ['已验收', 'Accepted'],
  suspended: ['暂停', 'Suspended'],
};

const KIND = {
  compound: ['老旧小区', 'Old compound'],
  pocket_park: ['口袋公园', 'Pocket park'],
  plaza: ['广场', 'Plaza'],
  road: ['道路', 'Road'],
  road_opening: ['打通道路', 'Road opening'],
  logistics_road: ['物流通道', 'Logistics road'],
  alley: ['背街小巷', 'Alley'],
};

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

/** Label of a renewal status; unknown statuses are shown as sent. */
export function statusLabel(s) {
  return STATUS[s]?.[current === 'en' ? 1 : 0] ?? String(s);
}

/** Label of a kind of site. */
export function kindLabel(k) {
  return KIND[k]?.[current === 'en' ? 1 : 0] ?? String(k);
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
