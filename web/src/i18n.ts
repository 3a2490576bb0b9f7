// All user-visible strings, Chinese first, English second. Chinese is the default;
// the choice is kept in localStorage under "yizhan.lang".

const dict = {
  app_name: ['一站式矛盾纠纷调处 · 远程视频', 'One-stop Dispute Resolution · Remote Video'],
  app_short: ['一站', 'Yizhan'],
  lang_toggle: ['English', '中文'],
  loading: ['正在加载…', 'Loading…'],
  error: ['出错了', 'Something went wrong'],
  retry: ['重试', 'Retry'],
  back: ['返回', 'Back'],
  next: ['下一步', 'Next'],
  cancel: ['取消', 'Cancel'],
  save: ['保存', 'Save'],
  close: ['关闭', 'Close'],
  confirm: ['确定', 'OK'],
  yes: ['是', 'Yes'],
  no: ['否', 'No'],
  none: ['无', 'None'],
  unknown: ['未知', 'Unknown'],
  copied: ['已复制', 'Copied'],
  copy: ['复制', 'Copy'],
  home_title: ['远程视频调解', 'Remote video mediation'],
  home_party: ['当事人请使用短信或通知中的链接进入。', 'Parties: please open the link from your SMS or notice.'],
  home_console: ['工作人员登录', 'Staff sign-in'],
  home_room: ['测试房间', 'Test room'],
  not_found: ['页面不存在', 'Page not found'],

  // room page
  room_join: ['进入房间', 'Join room'],
  room_name: ['房间', 'Room'],
  room_identity: ['身份标识', 'Identity'],
  room_display: ['显示名称', 'Display name'],
  room_missing: ['缺少参数：需要 url 和 token，或 room 和 identity。', 'Missing parameters: url and token, or room and identity.'],
  dev_token_failed: ['获取开发令牌失败：{msg}', 'Could not get a dev token: {msg}'],

  // call
  connecting: ['正在连接…', 'Connecting…'],
  reconnecting: ['网络中断，正在重新连接…', 'Connection lost, reconnecting…'],
  reconnected: ['已重新连接', 'Reconnected'],
  disconnected: ['已断开连接', 'Disconnected'],
  left_title: ['您已离开', 'You have left'],
  left_body: ['感谢参加。您可以关闭此页面。', 'Thank you for taking part. You may close this page.'],
  rejoin: ['重新进入', 'Join again'],
  removed: ['您已被主持人移出', 'The host removed you'],
  room_ended: ['本次会议已结束', 'This session has ended'],
  mute: ['静音', 'Mute'],
  unmute: ['取消静音', 'Unmute'],
  camera_off: ['关闭摄像头', 'Camera off'],
  camera_on: ['开启摄像头', 'Camera on'],
  audio_only: ['仅语音', 'Audio only'],
  audio_only_off: ['恢复视频', 'Video back on'],
  leave: ['离开', 'Leave'],
  leave_confirm: ['确定要离开吗？', 'Leave the session?'],
  you: ['我', 'Me'],
  you_suffix: ['（我）', ' (me)'],
  muted: ['已静音', 'Muted'],
  speaking: ['正在发言', 'Speaking'],
  no_video: ['未开启视频', 'No video'],
  recording_on: ['正在录音录像', 'Recording'],
  recording_off: ['未录制', 'Not recording'],
  enable_sound: ['点击开启声音', 'Tap to turn on sound'],
  waiting_others: ['等待其他人加入…', 'Waiting for others to join…'],
  publish_failed: ['无法开启摄像头或麦克风：{msg}', 'Could not start camera or microphone: {msg}'],
  connect_failed: ['连接失败：{msg}', 'Could not connect: {msg}'],
  participants_n: ['{n} 人', '{n} in the room'],
  server_muted_you: ['主持人已将您静音', 'The host muted you'],

  // spaces
  where_joint: ['您在：联合调解室', 'You are in: the joint session'],
  where_caucus: ['您在：{space}', 'You are in: {space}'],
  where_lobby: ['您在：等候室', 'You are in: the waiting room'],
  hears_you: ['能听到您的人：{names}', 'Who can hear you: {names}'],
  hears_nobody: ['目前没有其他人能听到您', 'Nobody else can hear you now'],
  hears_everyone: ['联合调解室内的所有人都能听到您', 'Everyone in the joint session can hear you'],
  private_meeting: ['{who} 正在进行单独会谈', '{who} are in a private meeting'],
  in_joint_waiting: ['{who} 在联合调解室', '{who} in the joint session'],
  in_joint_waiting_body: ['单独会谈期间，他们看不到、也听不到您。', 'During the private meeting they cannot see or hear you.'],
  private_meeting_wait: ['他们暂时听不到、也看不到您；单独会谈结束后会回来。', 'They cannot see or hear you for now; they will come back when it ends.'],
  space_joint: ['联合调解室', 'Joint session'],
  space_caucus: ['单独会谈室', 'Private room'],
  space_caucus_with: ['与{who}的单独会谈室', 'Private room with {who}'],
  space_lobby: ['等候室', 'Waiting room'],

  // roles
  role_mediator: ['调解员', 'Mediator'],
  role_host: ['主持人', 'Host'],
  role_party: ['当事人', 'Party'],
  role_applicant: ['申请人', 'Applicant'],
  role_respondent: ['被申请人', 'Respondent'],
  role_agent: ['代理人', 'Agent'],
  role_lawyer: ['律师', 'Lawyer'],
  role_judge: ['法官', 'Judge'],
  role_counsellor: ['心理咨询师', 'Counsellor'],
  role_expert: ['专家', 'Expert'],
  role_leader: ['领导', 'Leader'],
  role_clerk: ['书记员', 'Clerk'],
  role_observer: ['观察员', 'Observer'],
  role_supervisor: ['监督员', 'Supervisor'],
  role_interpreter: ['翻译', 'Interpreter'],
  role_petitioner: ['来访群众', 'Petitioner'],
  role_admin: ['管理员', 'Administrator'],
  role_guest: ['访客', 'Guest'],
  side_applicant: ['申请方', 'Applicant side'],
  side_respondent: ['被申请方', 'Respondent side'],

  // party flow
  invite_loading: ['正在读取邀请…', 'Reading the invitation…'],
  invite_invalid: ['邀请链接无效或已过期', 'This invitation link is invalid or has expired'],
  invite_invalid_body: ['请联系邀请您的调解员或中心重新发送链接。', 'Please ask the mediator or centre who invited you for a new link.'],
  invite_title: ['您被邀请参加在线调解', 'You are invited to an online mediation'],
  invite_reception_title: ['您被邀请参加在线接访', 'You are invited to an online reception'],
  invite_session: ['会议', 'Session'],
  invite_centre: ['调解中心', 'Centre'],
  invite_by: ['邀请人', 'Invited by'],
  invite_when: ['时间', 'Time'],
  invite_role: ['您的身份', 'You join as'],
  invite_case: ['案件', 'Case'],
  your_name: ['您的姓名', 'Your name'],
  your_name_hint: ['其他参会人会看到这个名字', 'Others in the session will see this name'],
  name_required: ['请填写姓名', 'Please enter your name'],
  petition_note: ['请简要说明您要反映的问题（选填）', 'Briefly say what you want to raise (optional)'],
  steps_name: ['确认信息', 'Details'],
  steps_devices: ['设备检测', 'Device check'],
  steps_consent: ['告知与同意', 'Notice'],
  steps_lobby: ['等候', 'Waiting'],
  steps_session: ['会议', 'Session'],

  // device check
  dc_title: ['检查摄像头、麦克风和网络', 'Check camera, microphone and network'],
  dc_camera: ['摄像头', 'Camera'],
  dc_mic: ['麦克风', 'Microphone'],
  dc_speaker: ['扬声器', 'Speaker'],
  dc_network: ['网络', 'Network'],
  dc_mic_hint: ['请说几句话，音量条应随声音跳动', 'Say something: the bar should move with your voice'],
  dc_speaker_test: ['播放测试音', 'Play test sound'],
  dc_speaker_hint: ['您应能听到一段提示音', 'You should hear a short tone'],
  dc_network_test: ['检测网络', 'Test network'],
  dc_network_ok: ['网络正常（往返 {ms} 毫秒）', 'Network OK (round trip {ms} ms)'],
  dc_network_slow: ['网络较慢（往返 {ms} 毫秒），建议使用仅语音', 'Network slow (round trip {ms} ms): audio only is advised'],
  dc_network_fail: ['无法连接服务器，请检查网络', 'Cannot reach the server: check your network'],
  dc_network_testing: ['正在检测…', 'Testing…'],
  dc_no_camera: ['未找到摄像头或未授权，可以仅语音参加', 'No camera found or allowed: you can join with audio only'],
  dc_no_mic: ['未找到麦克风或未授权', 'No microphone found or allowed'],
  dc_permission: ['请在浏览器弹窗中允许使用摄像头和麦克风', 'Please allow camera and microphone in the browser prompt'],
  dc_audio_only: ['仅语音参加（不开启摄像头）', 'Join with audio only (no camera)'],
  dc_continue: ['检测完成，继续', 'Looks good, continue'],
  dc_default: ['默认设备', 'Default device'],

  // consent
  consent_title: ['录音录像及保密告知', 'Recording and confidentiality notice'],
  consent_body_1: ['本次调解将全程录音录像，录制内容存入案件档案，可作为调解过程的证据。录制文件经过防篡改处理，查看和导出都会留下记录。', 'This mediation is recorded in full. The recording goes into the case file and may serve as evidence of the mediation. The files are tamper-evident, and every viewing or export is logged.'],
  consent_body_2: ['调解过程中所说的内容应予保密。未经同意，请勿自行录音、录像、截图或转发。', 'What is said in mediation is confidential. Do not record, screenshot or pass it on without consent.'],
  consent_caucus_none: ['单独会谈不录制音视频，只记录参加人员、开始时间和时长。', 'Private meetings are not recorded: only who took part, when and for how long.'],
  consent_caucus_sealed: ['单独会谈也会录制，但单独封存、限制查阅。', 'Private meetings are recorded too, but sealed with restricted access.'],
  consent_decline_info: ['如您不同意录制，您的选择会被记录；调解员将与您联系，改为其他方式（如线下）调解。', 'If you decline, your choice is recorded and the mediator will contact you to mediate another way (e.g. in person).'],
  consent_decline_info_join: ['如您不同意录制，您的选择会被记录；您仍可进入等候室，由调解员决定后续安排。', 'If you decline, your choice is recorded; you may still enter the waiting room and the mediator will decide how to go on.'],
  consent_accept: ['我已阅读并同意', 'I have read this and agree'],
  consent_decline: ['不同意', 'I do not agree'],
  consent_declined_title: ['您已选择不同意录制', 'You declined recording'],
  consent_declined_body: ['您的选择已记录。调解员会与您联系后续安排。', 'Your choice has been recorded. The mediator will contact you about what comes next.'],
  consent_declined_continue: ['仍然进入等候室', 'Enter the waiting room anyway'],

  // lobby
  lobby_title: ['请稍候，调解员马上让您进入', 'Waiting for the mediator to let you in'],
  lobby_body: ['调解员已收到您到达的通知。在此期间，其他人看不到、也听不到您。', 'The mediator has been told you are here. Nobody can see or hear you while you wait.'],
  lobby_elapsed: ['已等待 {t}', 'Waiting for {t}'],
  lobby_queue: ['您前面还有 {n} 人', '{n} ahead of you'],
  lobby_sent_back: ['调解员请您在等候室稍候', 'The mediator asked you to wait in the waiting room'],
  lobby_denied: ['调解员未允许您进入本次会议', 'The mediator did not let you into this session'],

  // console
  login_title: ['工作人员登录', 'Staff sign-in'],
  login_user: ['账号', 'Username'],
  login_password: ['密码', 'Password'],
  login_submit: ['登录', 'Sign in'],
  login_failed: ['账号或密码错误', 'Wrong username or password'],
  logout: ['退出登录', 'Sign out'],
  nav_today: ['今日会议', 'Today'],
  nav_cases: ['案件', 'Cases'],
  nav_new_case: ['新建案件', 'New case'],
  nav_dashboard: ['统计', 'Dashboard'],
  nav_reception: ['领导接访', 'Reception'],
  nav_directory: ['人员名录', 'Directory'],
  today_none: ['今天没有安排的会议', 'No sessions scheduled today'],
  live_now: ['正在进行', 'Live now'],
  open: ['打开', 'Open'],
  enter_session: ['进入会议', 'Enter session'],
  start_session: ['开始会议', 'Start session'],
  end_session: ['结束会议', 'End session'],
  end_session_confirm: ['确定为所有人结束本次会议？', 'End the session for everyone?'],

  case_no: ['案号', 'Case no.'],
  case_title: ['案件名称', 'Title'],
  case_category: ['类别', 'Category'],
  case_grade: ['风险等级', 'Risk grade'],
  case_status: ['状态', 'Status'],
  case_centre: ['中心', 'Centre'],
  case_mediator: ['调解员', 'Mediator'],
  case_summary: ['案情简介', 'Summary'],
  case_created: ['受理时间', 'Accepted'],
  case_parties: ['当事人', 'Parties'],
  case_timeline: ['进程', 'Timeline'],
  case_sessions: ['会议', 'Sessions'],
  case_file: ['案件档案', 'Case file'],
  case_create: ['创建案件', 'Create case'],
  case_advance: ['推进到下一环节', 'Move to next stage'],
  cases_none: ['没有符合条件的案件', 'No matching cases'],
  filter_all: ['全部', 'All'],
  filter_all_status: ['全部状态', 'All statuses'],
  filter_all_risk: ['全部等级', 'All risk grades'],
  filter_all_cat: ['全部类别', 'All categories'],
  filter_all_centre: ['全部中心', 'All centres'],
  filter_all_tier: ['全部层级', 'All tiers'],
  filter_all_role: ['全部职务', 'All roles'],
  search: ['搜索', 'Search'],
  party_add: ['添加当事人', 'Add party'],
  party_name: ['姓名', 'Name'],
  party_phone: ['电话', 'Phone'],
  party_side: ['方', 'Side'],

  status_accepted: ['受理', 'Accepted'],
  status_assessed: ['研判', 'Assessed'],
  status_assigned: ['分流', 'Assigned'],
  status_mediating: ['调处', 'Mediating'],
  status_supervised: ['督办', 'Supervised'],
  status_closed: ['反馈办结', 'Closed'],
  grade_red: ['红色', 'Red'],
  grade_yellow: ['黄色', 'Yellow'],
  grade_blue: ['蓝色', 'Blue'],
  cat_marriage_family: ['婚姻家庭', 'Marriage and family'],
  cat_land: ['土地', 'Land'],
  cat_neighbours: ['邻里', 'Neighbours'],
  cat_labour_wages: ['劳动工资', 'Labour and wages'],
  cat_contracts: ['合同', 'Contracts'],
  cat_property: ['物业', 'Property management'],
  cat_traffic: ['交通事故', 'Traffic accidents'],
  cat_medical: ['医疗', 'Medical'],
  cat_consumer: ['消费', 'Consumer'],
  cat_other: ['其他', 'Other'],
  tier_city: ['市级', 'City'],
  tier_township: ['镇街', 'Township'],
  tier_village: ['村社区', 'Village'],

  sess_kind: ['类型', 'Kind'],
  sess_kind_mediation: ['调解', 'Mediation'],
  sess_kind_reception: ['接访', 'Reception'],
  sess_kind_consultation: ['咨询', 'Consultation'],
  sess_title: ['会议名称', 'Title'],
  sess_when: ['时间', 'Scheduled'],
  sess_state: ['状态', 'State'],
  sess_state_scheduled: ['已安排', 'Scheduled'],
  sess_state_live: ['进行中', 'Live'],
  sess_state_ended: ['已结束', 'Ended'],
  sess_caucus_policy: ['单独会谈录制', 'Caucus recording'],
  sess_caucus_none: ['不录制（仅记录人员和时长）', 'Not recorded (who and how long only)'],
  sess_caucus_sealed: ['录制并封存', 'Recorded and sealed'],
  sess_schedule: ['安排会议', 'Schedule session'],
  sess_none: ['还没有会议', 'No sessions yet'],

  inv_title: ['邀请', 'Invitations'],
  inv_create: ['创建邀请', 'Create invitation'],
  inv_name: ['显示名称', 'Display name'],
  inv_role: ['身份', 'Role'],
  inv_side: ['方', 'Side'],
  inv_expires: ['有效期至', 'Expires'],
  inv_link: ['链接', 'Link'],
  inv_copy: ['复制链接', 'Copy link'],
  inv_qr: ['二维码', 'QR code'],
  inv_used: ['已使用', 'Used'],
  inv_none: ['还没有邀请', 'No invitations yet'],

  live_title: ['会议控制', 'Session control'],
  live_lobby: ['等候室', 'Waiting room'],
  live_lobby_empty: ['等候室没有人', 'Nobody is waiting'],
  live_waited: ['已等 {t}', 'waiting {t}'],
  live_admit: ['准入', 'Admit'],
  live_deny: ['拒绝', 'Deny'],
  live_send_back: ['请回等候室', 'Send back'],
  live_spaces: ['会议室', 'Rooms'],
  live_move_to: ['移至{space}', 'Move to {space}'],
  live_new_caucus: ['新建单独会谈', 'New private room'],
  live_caucus_with_side: ['与{side}单独会谈', 'Caucus with {side}'],
  live_all_back: ['全部回到联合调解室', 'Everyone back to joint session'],
  live_hears: ['听得到彼此：{names}', 'Hear each other: {names}'],
  live_mute: ['静音', 'Mute'],
  live_remove: ['移出', 'Remove'],
  live_remove_confirm: ['确定将 {name} 移出会议？', 'Remove {name} from the session?'],
  live_rec: ['录制', 'Recording'],
  live_rec_start: ['开始录制', 'Start recording'],
  live_rec_stop: ['停止录制', 'Stop recording'],
  live_rec_reason: ['停止原因', 'Reason for stopping'],
  live_rec_resume: ['恢复录制', 'Resume recording'],
  live_rec_stopped: ['录制已由主持人停止', 'Recording stopped by a host'],
  live_rec_health_ok: ['录制正常', 'Recorder healthy'],
  live_rec_health_bad: ['录制故障：{msg}', 'Recorder failure: {msg}'],
  live_consent: ['同意录制', 'Consent'],
  live_consent_yes: ['已同意', 'Agreed'],
  live_consent_no: ['不同意', 'Declined'],
  live_consent_pending: ['未答复', 'No answer'],
  live_consent_missing: ['以下人员尚未同意录制：{names}', 'Not yet consented: {names}'],
  live_pull_in: ['邀请专家加入', 'Pull in staff'],
  live_pull_in_hint: ['从人员名录中选择法官、律师、心理咨询师或专家', 'Pick a judge, lawyer, counsellor or expert from the directory'],
  live_invite: ['邀请', 'Invite'],
  invited_to: ['{by} 邀请您参加：{title}', '{by} invites you to: {title}'],
  live_invited: ['已通知 {name}', '{name} has been invited'],
  live_participants: ['参会人员', 'Participants'],
  live_join_av: ['加入音视频', 'Join audio/video'],
  live_events: ['会议记录', 'Event log'],

  rec_queue: ['排队群众', 'Queue'],
  rec_queue_empty: ['暂时没有人排队', 'Nobody is queuing'],
  rec_admit_next: ['请下一位', 'Admit next'],
  rec_current: ['当前接访', 'Now speaking with'],
  rec_wrote: ['反映的问题', 'What they wrote'],
  rec_outcome: ['接访结果', 'Outcome'],
  rec_outcome_note: ['处理意见', 'Note'],
  rec_outcome_case: ['案件', 'Case'],
  rec_outcome_new_case: ['新建案件', 'New case'],
  rec_outcome_unit: ['责任单位', 'Responsible unit'],
  rec_outcome_deadline: ['办理期限', 'Deadline'],
  rec_outcome_file: ['提交并结束本次接访', 'File and end this conversation'],
  rec_outcome_filed: ['已记录接访结果', 'Outcome filed'],
  rec_open: ['开始接访', 'Open reception'],
  rec_link: ['群众进入链接', 'Link for petitioners'],

  cf_title: ['案件档案', 'Case file'],
  cf_recordings: ['录像', 'Recordings'],
  cf_events: ['事件记录', 'Event log'],
  cf_verify: ['校验', 'Verification'],
  cf_verify_run: ['重新校验', 'Verify again'],
  cf_verify_ok: ['校验通过：文件完整、记录链完整、签名有效', 'Verified: files intact, log chain intact, signature valid'],
  cf_verify_bad: ['校验失败', 'Verification failed'],
  cf_hashes: ['文件哈希', 'File hashes'],
  cf_chain: ['事件链', 'Event chain'],
  cf_signature: ['签名', 'Signature'],
  cf_download: ['下载', 'Download'],
  cf_export: ['导出档案', 'Export case file'],
  cf_play: ['播放', 'Play'],
  cf_pause: ['暂停', 'Pause'],
  cf_none: ['暂无录像', 'No recordings yet'],
  cf_key: ['服务器公钥（离线校验用）', 'Server public key (for offline checks)'],
  cf_verify_case: ['校验整个案件档案', 'Verify the whole case file'],
  case_supervision: ['督办事项', 'Supervision'],
  sup_done: ['已办结', 'Done'],
  sup_open: ['办理中', 'Open'],
  cf_sealed: ['已封存', 'Sealed'],

  ev_session_opened: ['会议开始', 'Session opened'],
  ev_participant: ['参会人', 'Participant'],
  ev_consented: ['同意录制', 'Consented'],
  ev_declined: ['拒绝录制', 'Declined'],
  ev_joined: ['加入', 'Joined'],
  ev_join: ['加入', 'Joined'],
  ev_admitted: ['准入', 'Admitted'],
  ev_admit: ['准入', 'Admitted'],
  ev_moved: ['移动', 'Moved'],
  ev_move: ['移动', 'Moved'],
  ev_lobby: ['回到等候室', 'Sent to lobby'],
  ev_left: ['离开', 'Left'],
  ev_leave: ['离开', 'Left'],
  ev_muted: ['静音', 'Muted'],
  ev_mute: ['静音', 'Muted'],
  ev_remove: ['移出', 'Removed'],
  ev_deny: ['拒绝进入', 'Denied'],
  ev_recording_started: ['开始录制', 'Recording started'],
  ev_recording_stopped: ['停止录制', 'Recording stopped'],
  ev_recording_paused: ['暂停录制', 'Recording paused'],
  ev_recording_failed: ['录制故障', 'Recording failed'],
  ev_track_started: ['开始录制音视频轨', 'Track started'],
  ev_track_stopped: ['音视频轨结束', 'Track stopped'],
  ev_interrupted: ['录制中断', 'Interrupted'],
  ev_ended: ['会议结束', 'Session ended'],
  ev_end: ['会议结束', 'Session ended'],
  ev_sealed: ['档案封存', 'Sealed'],
  ev_viewed: ['查阅', 'Viewed'],
  ev_downloaded: ['下载', 'Downloaded'],
  ev_exported: ['导出', 'Exported'],
  ev_created: ['创建', 'Created'],
  ev_status: ['状态变更', 'Status changed'],
  ev_updated: ['更新', 'Updated'],
  ev_session_created: ['安排会议', 'Session scheduled'],
  ev_invited: ['发出邀请', 'Invited'],
  ev_revoked: ['撤销邀请', 'Invitation revoked'],
  ev_outcome: ['接访结果', 'Outcome'],
  ev_supervise: ['督办', 'Supervision'],
  ev_staff_invited: ['邀请专家', 'Staff invited'],
  ev_consent: ['录制同意', 'Consent'],
  ev_note: ['来访留言', 'Note'],
  ev_recording: ['录制', 'Recording'],
  dash_title: ['统计', 'Dashboard'],
  dash_accepted: ['受理', 'Accepted'],
  dash_closed: ['办结', 'Closed'],
  dash_rate: ['办结率', 'Closure rate'],
  dash_by_tier: ['按层级', 'By tier'],
  dash_by_category: ['按类别', 'By category'],
  dash_by_grade: ['按风险等级', 'By risk grade'],
  dash_live: ['正在进行的会议', 'Live sessions'],
  dash_live_none: ['当前没有进行中的会议', 'No live sessions now'],

  dir_title: ['人员名录', 'Staff directory'],
  dir_gold: ['金牌调解员', 'Gold-medal mediator'],
  dir_name: ['姓名', 'Name'],
  dir_centre: ['所属中心', 'Centre'],
  dir_role: ['职务', 'Role'],
  dir_tier: ['层级', 'Tier'],
  // weak links (issue 13): connection quality, paused video
  quality_excellent: ['网络很好', 'Excellent connection'],
  quality_good: ['网络良好', 'Good connection'],
  quality_poor: ['网络较差', 'Weak connection'],
  quality_lost: ['网络中断', 'Connection lost'],
  quality_unknown: ['网络状况未知', 'Connection unknown'],
  weak_link_self: ['您的网络信号较弱，声音优先：可以关闭摄像头，或换到信号更好的地方。', 'Your connection is weak; sound comes first: turn your camera off, or move to where the signal is better.'],
  video_paused_weak: ['网络较弱，视频已暂停', 'Weak network: video paused'],
  link_col: ['网络', 'Link'],
  link_detail: ['丢包 {loss}%，往返 {rtt} 毫秒，下行约 {kbps} kbps', 'loss {loss}%, round trip {rtt} ms, downlink about {kbps} kbps'],
} as const satisfies Record<string, readonly [string, string]>;

export type Key = keyof typeof dict;
export type Lang = 'zh' | 'en';

const STORE = 'yizhan.lang';
let lang: Lang = readLang();
const listeners = new Set<(l: Lang) => void>();

function readLang(): Lang {
  try {
    const q = new URLSearchParams(location.search).get('lang');
    if (q === 'en' || q === 'zh') return q;
    const v = localStorage.getItem(STORE);
    if (v === 'en' || v === 'zh') return v;
  } catch {
    /* storage may be blocked */
  }
  return 'zh';
}

export function getLang(): Lang {
  return lang;
}

export function setLang(l: Lang): void {
  lang = l;
  try {
    localStorage.setItem(STORE, l);
  } catch {
    /* ignore */
  }
  if (typeof document !== 'undefined') document.documentElement.lang = l === 'zh' ? 'zh-CN' : 'en';
  listeners.forEach((f) => f(l));
}

export function onLang(f: (l: Lang) => void): () => void {
  listeners.add(f);
  return () => listeners.delete(f);
}

export function t(key: Key, params?: Record<string, string | number>): string {
  const e = dict[key];
  let s: string = e ? e[lang === 'zh' ? 0 : 1] : key;
  if (params) s = s.replace(/\{(\w+)\}/g, (m, k) => (k in params ? String(params[k]) : m));
  return s;
}

/** A list of names in the reader's language: 甲、乙 / A, B. */
export function joinNames(items: string[]): string {
  return items.join(lang === 'zh' ? '、' : ', ');
}

/** Every key, for tests. */
export function allKeys(): Key[] {
  return Object.keys(dict) as Key[];
}

/** Translate a value from the domain (role, status, ...) with a prefix, falling back to the raw value. */
export function tv(prefix: string, value: string | undefined): string {
  if (!value) return '';
  const k = (prefix + '_' + value) as Key;
  return k in dict ? t(k) : value;
}

export function hasKey(k: string): k is Key {
  return k in dict;
}
