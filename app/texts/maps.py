"""Words of the maps: the geography layers, the legends, the route and its GPX download."""

TEXT = {
    "map_legend": {"zh": "图例", "en": "Legend"},
    "map_layer_districts": {"zh": "区界", "en": "District boundary"},
    "map_layer_subdistricts": {"zh": "街道界", "en": "Subdistrict boundary"},
    "map_layer_communities": {"zh": "社区界", "en": "Community boundary"},
    "map_layer_streets": {"zh": "道路", "en": "Streets"},
    "map_layer_water": {"zh": "水系", "en": "Water"},
    "map_layer_green": {"zh": "绿地", "en": "Green space"},
    "map_layer_railway": {"zh": "铁路", "en": "Railway"},
    "map_scale_few": {"zh": "少", "en": "few"},
    "map_scale_many": {"zh": "多", "en": "many"},
    "map_scale_cells": {"zh": "网格颜色：{what}", "en": "Cell colour: {what}"},
    "map_scale_cases": {"zh": "案件数", "en": "cases"},
    "map_patrol_minutes": {"zh": "巡查分钟数", "en": "patrol minutes"},
    "map_neglected": {"zh": "长期未巡查", "en": "Not patrolled recently"},
    "map_visited": {"zh": "近期已巡查", "en": "Patrolled recently"},
    "map_beat": {"zh": "每种颜色一个责任片区", "en": "One colour per beat"},
    "map_my_cells": {"zh": "我的网格", "en": "My cells"},
    "map_task_verify": {"zh": "待核实", "en": "To verify"},
    "map_task_check": {"zh": "待核查", "en": "To check"},
    "map_route_walk": {"zh": "步行路线（沿道路）", "en": "Walk along the streets"},
    "map_route_stop": {"zh": "编号站点", "en": "Numbered stop"},
    "map_route_must": {"zh": "必到站点（有期限）", "en": "Must-visit stop (deadline)"},
    "map_route_start": {"zh": "起点 / 终点", "en": "Start / end"},
    "gpx_crs": {"zh": "GPX 坐标系", "en": "GPX coordinates"},
    "gpx_crs_help": {
        "zh": "高德、腾讯等国内地图应用用 GCJ-02；GPS 设备和国际地图用 WGS-84。",
        "en": "Chinese map apps (Gaode, Tencent) use GCJ-02; GPS devices and international maps use WGS-84.",
    },
    "gpx_crs_wgs84": {"zh": "WGS-84（GPS 设备）", "en": "WGS-84 (GPS devices)"},
    "gpx_crs_gcj02": {"zh": "GCJ-02（高德、腾讯）", "en": "GCJ-02 (Chinese map apps)"},
    "basemap_unreadable": {
        "zh": "无法读取底图文件 {file}：{error}",
        "en": "Cannot read the base map file {file}: {error}",
    },
}


ERRORS = {
    "basemap_unreadable": {
        "zh": "无法读取底图文件 {file}：{error}",
        "en": "Cannot read the base map file {file}: {error}",
    },
}
